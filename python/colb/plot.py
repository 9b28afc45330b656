"""Plots of colb results with matplotlib (optional: only this module needs
it, and only when called)."""

from . import errors


def plot_result(result, ax=None, ratio=False):
    """The mean regret curve of every policy of a SimResult with its 95%
    band, against the round; ratio=True plots the ratio to the random
    policy's regret instead. Returns the matplotlib axes.

    Raises ValueError (colb.InvalidArgument) for ratio=True on a result
    without the random policy, whose ratios are all NaN (nothing would be
    drawn); ImportError without matplotlib."""
    if ratio and "random" not in result.policies:
        raise errors.InvalidArgument(
            f"plot: ratio=True plots each policy's regret over the random policy's, which needs "
            f"'random' among the policies (policies={list(result.policies)}); run it with them, "
            f"or plot with ratio=False")
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("colb: plotting needs matplotlib (Debian: apt-get install "
                          "python3-matplotlib)") from e
    if ax is None:
        ax = plt.figure().add_subplot()
    mean = result.ratio_mean if ratio else result.regret_mean
    ci = result.ratio_ci95 if ratio else result.regret_ci95
    for i, name in enumerate(result.policies):
        ax.plot(result.rounds, mean[i], label=name)
        ax.fill_between(result.rounds, mean[i] - ci[i], mean[i] + ci[i], alpha=0.2)
    ax.set_xlabel("round")
    ax.set_ylabel("regret / random policy's" if ratio else "cumulative regret per user")
    ax.legend()
    return ax
