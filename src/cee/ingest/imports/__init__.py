"""`bulkupload`: a CSV fetched by URL, imported in chunks by the worker, reported when done.

guard      which URLs and addresses may be fetched (no server-side request forgery)
fetch      the guarded HTTP client: checked at connect time and on every redirect, bounded
csvstream  bytes in, CSV rows out, never the whole file in memory
job        one import: rows validated as `add` validates them, applied chunk by chunk
notify     the summary: a signed callback POST (retried) and the notify email
runner     the worker's side: claims jobs, runs up to `bulk_concurrency` at once
"""
