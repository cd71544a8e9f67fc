"""tsquant Python models: scikit-learn scorer, order dispatcher, secure config (DESIGN.md §8)."""
