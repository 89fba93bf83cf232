"""The replication core: every figure the original reported, judged by one set of rules.

- `figures`: the registry (each figure once, with its source and kind: reported or derived).
- `verdicts`: the vocabulary and the one rule (`judge`) that assigns it.
- `rows`: the row schema, its Markdown table and the tally.
- `runs`: run the original experiments for the report (paired and unpaired streams).
- `bespoke`, `claims`: the evaluators that turn results into rows for the bespoke figures;
  `convergence`: the 50-epoch report; `document`: REPLICATION.md and its plots.
"""

from jaxbespoke.replication.figures import FIGURES, Figure, by_experiment, figure
from jaxbespoke.replication.rows import make_row, markdown_table, tally
from jaxbespoke.replication.verdicts import RULES, VOCABULARY, judge

__all__ = ["FIGURES", "Figure", "RULES", "VOCABULARY", "by_experiment", "figure", "judge",
           "make_row", "markdown_table", "tally"]
