"""FHIR R4 endpoints (`/fhir/R4/`, `application/fhir+json`, no trailing slashes), one module per
resource family; `base` holds what they share (renderer, errors, references).

DRF views with a FHIR renderer, so token and session authentication work as in the REST API.
Errors are OperationOutcome resources with the same statuses as the REST API's problems
(reused from `portal.api.exceptions`). Searches answer `searchset` Bundles.
"""
