"""Our quality family run in memory, batch by batch, as the pipeline runs it (no Beam, no peers)."""

from pipeline.records import Document
from pipeline.stages.quality import quality_steps
from pipeline.text.quality.config import QualityConfig


class QualitySteps:
    """The quality steps in the pipeline's order (pipeline.stages.quality.quality_steps), per batch."""

    def __init__(self, cfg: QualityConfig, batch_size: int):
        self.steps = quality_steps(cfg)
        self.batch_size = batch_size

    def run(self, docs: list[Document], early_exit: bool = True) -> int:
        kept = 0
        for i in range(0, len(docs), self.batch_size):
            batch = [(d, True) for d in docs[i : i + self.batch_size]]  # (document, still kept)
            for step in self.steps:
                if hasattr(step, "annotate"):
                    batch = list(zip(step.annotate([d for d, _ in batch]), [ok for _, ok in batch]))
                else:
                    batch = [(d, ok and step.check(d).reason is None) for d, ok in batch]
                    if early_exit:
                        batch = [(d, ok) for d, ok in batch if ok]
            kept += sum(ok for _, ok in batch)
        return kept
