"""Results of experiments too slow for a notebook, as JSON with their command, seeds and settings
(written by ``rnncourse ablation``, read with ``rnncourse.ablation.load_results``)."""
