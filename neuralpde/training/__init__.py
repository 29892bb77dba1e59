"""Training: the physics-informed loss and the Adam-then-L-BFGS trainer."""

from .loss import Batch, loss_terms, make_batch
from .memory import retain_freed_memory
from .status import Status
from .trainer import Trainer, TrainResult

__all__ = [
    "Batch",
    "loss_terms",
    "make_batch",
    "Trainer",
    "TrainResult",
    "Status",
    "retain_freed_memory",
]
