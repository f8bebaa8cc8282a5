"""One loaded fastText supervised model and the probability of one label, batch by batch."""

from pipeline.text.quality_classifier.preprocess import PREPROCESS


def load_fasttext(path: str):
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silences a load-time deprecation print
    return fasttext.load_model(path)


class LabelProbability:
    """The probability fastText's own predict gives `label` for each text, prepared by `preprocess`."""

    def __init__(self, model, label: str, preprocess: str):
        self.model = model
        self.label = label
        self._prepare = PREPROCESS[preprocess]
        if label not in model.labels:
            raise ValueError(f"the model has no label {label!r} (its labels: {', '.join(model.labels[:10])})")

    def prepare(self, texts: list[str]) -> list[str]:
        return [self._prepare(t) for t in texts]

    def scores(self, texts: list[str]) -> list[float]:
        """One predict call for the batch (fastText's list form; its single-string form fails under
        numpy 2). k=-1 returns every label, so the positive one is always there: its probability is
        exactly what predict reports, float32 as a Python float."""
        if not texts:
            return []
        label = self.label
        labels, probs = self.model.predict(self.prepare(texts), k=-1)
        out = []
        for names, p in zip(labels, probs):
            try:
                out.append(float(p[names.index(label)]))
            except ValueError:  # predict drops labels only under a threshold; ours is 0
                out.append(0.0)
        return out
