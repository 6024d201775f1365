"""The room a booking answers with is built from the slot without a query (`Model.from_db`),
loaded as from the database Django reads rooms from, like any room read through the ORM."""

import datetime
import uuid

from django.db import router

from scheduling.models import Room
from scheduling.selectors.availability import Slot
from scheduling.services.booking.book import _room_of
from tests.factories import RoomFactory


def slot_in(room: Room | None) -> Slot:
    start = datetime.datetime(2027, 3, 2, 9, tzinfo=datetime.UTC)
    return Slot(
        slot_id="s",
        doctor_id=1,
        doctor_public_id=uuid.uuid4(),
        clinic_id=1,
        clinic_public_id=uuid.uuid4(),
        service_id=1,
        service_public_id=uuid.uuid4(),
        start=start,
        end=start + datetime.timedelta(minutes=30),
        room_id=room.pk if room else None,
        equipment_ids=(),
        buffer_minutes=0,
        room_public_id=room.public_id if room else None,
    )


def test_the_slots_room_is_loaded_from_the_rooms_read_database(clinic_a, django_assert_num_queries):
    room = RoomFactory(clinic=clinic_a)
    with django_assert_num_queries(0):
        built = _room_of(slot_in(room))
    assert built is not None
    # `_state` is the instance's documented ModelState (Model instance reference, `from_db`).
    assert (built._state.db, built._state.adding) == (router.db_for_read(Room), False)
    assert (built.pk, built.public_id, built.name) == (room.pk, room.public_id, room.name)
    assert _room_of(slot_in(None)) is None
