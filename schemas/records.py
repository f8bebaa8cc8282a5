"""Arrow schemas of the pipeline's row outputs: documents, rejections and dead letters.

These are the only definitions of these columns; the pipeline writes them and anything that
reads a run folder (the report, the trainer's tools, users' notebooks) reads them through here.
Bump RECORDS_SCHEMA_VERSION when a column changes meaning, type or name; adding a nullable
column at the end is compatible and needs no bump.
"""

import pyarrow as pa

# 2: every Document.scores key is "<stage id>:<signal>" (perplexity, perplexity_bucket and
# toxicity_* were bare keys in 1; see the README, "What a run writes").
RECORDS_SCHEMA_VERSION = 2

# Stage scores are floats keyed by "<stage id>:<signal>", e.g. "quality.gopher_quality.v1:mean_word_length".
SCORES_TYPE = pa.map_(pa.string(), pa.float64())
# Free-form provenance (input location, record fields the user asked to carry, cleaning counts).
METADATA_TYPE = pa.map_(pa.string(), pa.string())


def _with_version(schema: pa.Schema, kind: str) -> pa.Schema:
    return schema.with_metadata({b"schema": kind.encode(), b"schema_version": str(RECORDS_SCHEMA_VERSION).encode()})


DOCUMENT_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("url", pa.string()),  # URL or input path of the record; may be null
            pa.field("lang", pa.string()),  # ISO 639 code from language ID; null before it runs
            pa.field("lang_score", pa.float64()),
            pa.field("scores", SCORES_TYPE, nullable=False),
            pa.field("metadata", METADATA_TYPE, nullable=False),
            # The input record's own id; `id` is unique in the run and differs only where this repeats.
            pa.field("record_id", pa.string()),
        ]
    ),
    "document",
)

REJECTION_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("lang", pa.string()),  # null when the document was dropped before language ID
            pa.field("stage", pa.string(), nullable=False),  # versioned stage id, e.g. language.fasttext.v1
            pa.field("reason", pa.string(), nullable=False),  # a member of the stage's Reason enum
            pa.field("detail", pa.string(), nullable=False),  # short, human-readable: the measured value
            pa.field("text", pa.string()),  # only when output.rejected_text is on
            pa.field("url", pa.string()),  # the document's URL (or input location), to trace a rejected page
        ]
    ),
    "rejection",
)

DEAD_LETTER_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("location", pa.string(), nullable=False),  # "<path>:<line>" or "<path>#row=<n>"
            pa.field("reason", pa.string(), nullable=False),
            pa.field("detail", pa.string(), nullable=False),
            pa.field("raw_excerpt", pa.string(), nullable=False),  # first bytes, undecodable bytes escaped
            pa.field("source", pa.string()),  # when the input's source is known from its path
        ]
    ),
    "dead_letter",
)
