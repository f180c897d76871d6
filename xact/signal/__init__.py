"""Signal propagation: gains, variance maps and stability verdicts for any spec.

Framework-free numerics over a spec's NumPy reference (``xact.numpy``): the
gain 1/sqrt(E[phi(z)^2]), the mean-field variance map of a deep random
network (Poole et al. 2016; Schoenholz et al. 2017), its fixed point, the
slope there, chi1, the critical weight scale, and what the graph looks like
(jumps, slope bound, boundedness, dead fraction). The framework pieces
(initialisers, training guards) live in ``torch_init``/``tf_init`` and are
exposed as ``xact.torch.init_`` / ``xact.tf.initializer``.

    >>> import xact
    >>> round(xact.gain("relu") ** 2, 12)
    2.0
"""

from xact.signal._diagnose import (
    Bounded,
    DepthScale,
    Diagnosis,
    Verdict,
    diagnose,
    gain,
    mean_field_trajectory,
    verdict,
)

__all__ = ["Bounded", "DepthScale", "Diagnosis", "Verdict", "diagnose", "gain", "mean_field_trajectory", "verdict"]
