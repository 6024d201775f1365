"""Import of patients and visit history from a legacy system's CSV or XLSX export.

upload (`jobs.import_job_create`) → preview and mapping (`mapping.guess_mapping`) → dry run
and run (`runner.import_job_advance`, in chunks with a persisted cursor).
"""
