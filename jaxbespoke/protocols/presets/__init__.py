"""Every bespoke experiment of the original as a named preset: a configuration plus a task.

Each preset is faithful to one original script, flaws included (buggy tiering rules, encoders
without a mask, "final loss" from one training batch), so the reported figures can be matched;
the runner also records a low-noise metric (every window of a held-out or the whole segment)
and, for the encoders, runs the causal-mask control beside it.

- configs: RunConfig (keyword-only, validated), the typed tiering rules, the PRESETS table;
- tasks: the task registry (sample, loss, evaluate, floor rule, low-noise metric per task);
- models: a preset's models and exact parameter counts;
- runner: data per seed and `run_config`, on the one training path (training.fit.fit_seeds);
- plans: what the replication report runs of each preset.

Both models of a seed share its corpus, tiers and batch stream (common random numbers).
"""

from jaxbespoke.protocols.presets.configs import (
    ADAM3,
    PRESETS,
    TIERING_RULES,
    ById,
    CumMass,
    RankFractions,
    RankWithSpecial,
    RunConfig,
    Tiering,
    TopBottom,
    TopBottomOverlapping,
    get,
    make_tiers,
)
from jaxbespoke.protocols.presets.models import capacities, embed_params, make_model
from jaxbespoke.protocols.presets.plans import PLANS, Plan, plan
from jaxbespoke.protocols.presets.runner import (
    Shorten,
    build_data,
    fingerprint,
    run_config,
    seed_keys,
    train_config,
)
from jaxbespoke.protocols.presets.tasks import TASKS, PresetTask, make_task, mode

__all__ = [
    "ADAM3", "PLANS", "PRESETS", "TASKS", "TIERING_RULES", "ById", "CumMass", "Plan",
    "PresetTask", "RankFractions", "RankWithSpecial", "RunConfig", "Shorten", "Tiering",
    "TopBottom", "TopBottomOverlapping", "build_data", "capacities", "embed_params",
    "fingerprint", "get", "make_model", "make_task", "make_tiers", "mode", "plan", "run_config",
    "seed_keys", "train_config",
]
