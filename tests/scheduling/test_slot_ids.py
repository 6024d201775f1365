import datetime
import uuid

from scheduling.slot_ids import SlotIdMaker, make_slot_id, parse_slot_id

UTC = datetime.UTC


def test_the_batch_maker_gives_the_same_ids_as_make_slot_id_and_they_parse_back():
    maker = SlotIdMaker()
    doctors = [uuid.uuid4(), uuid.uuid4()]
    clinic, service = uuid.uuid4(), uuid.uuid4()
    start = datetime.datetime(2027, 3, 2, 1, 30, tzinfo=UTC)
    for minutes in (0, 30, 0):  # a repeated start reuses the cached prefix state
        for doctor in doctors:
            when = start + datetime.timedelta(minutes=minutes)
            ids = {
                make(
                    doctor_public_id=doctor,
                    clinic_public_id=clinic,
                    service_public_id=service,
                    start=when,
                )
                for make in (maker.make, make_slot_id)
            }
            assert len(ids) == 1
            ref = parse_slot_id(ids.pop())
            assert (ref.doctor_public_id, ref.clinic_public_id, ref.start) == (
                doctor,
                clinic,
                when,
            )
