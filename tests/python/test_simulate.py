"""colb.simulate gives exactly what `colb run` writes for the same settings
and seed: summary.csv (every column but the wall time) and curves.csv,
compared as text; and its errors are the library's."""
import csv
import subprocess

import numpy as np
import pytest

import colb

SMALL = dict(users=20, clusters=3, dim=3, arms=5, horizon=60, repeats=3, seed=7)


def run_cli(tool, folder, **kw):
    args = [str(tool), "run", "--out", str(folder), "--quiet", "1"]
    for k, v in kw.items():
        args += ["--" + k.replace("_", "-").rstrip("-"), ",".join(v) if isinstance(v, list) else str(v)]
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    return folder


def rows(path, drop=()):
    with open(path, newline="") as f:
        table = list(csv.reader(f))
    keep = [i for i, h in enumerate(table[0]) if h not in drop]
    return [[r[i] for i in keep] for r in table]


def same_as_cli(tool, tmp_path, **kw):
    cli = run_cli(tool, tmp_path / "cli", **kw)
    res = colb.simulate(**kw)
    res.to_csv(tmp_path / "py")
    got, want = rows(tmp_path / "py" / "summary.csv", ("wall_s",)), \
        rows(cli / "summary.csv", ("wall_s",))
    assert got == want
    assert (tmp_path / "py" / "curves.csv").read_text() == (cli / "curves.csv").read_text()
    return res


def test_equal_to_colb_run(tool, tmp_path):
    res = same_as_cli(tool, tmp_path, policies=["random", "oracle", "cmlb", "club", "linucb-ind"],
                      **SMALL)
    P, R, K = res.regret.shape
    assert (P, R, K) == (5, 3, 60) and res.rounds[-1] == 60
    assert [r["policy"] for r in res.summary] == list(res.policies)
    assert res.summary[2]["regret_mean"] == res.regret_mean[2, -1]
    assert (res.ratio_mean[0] == 1).all()                # random against itself
    assert res.wall.shape == (5, 3) and (res.wall >= 0).all()
    assert res.info[2][0].startswith("T_explore=")


def test_equal_to_colb_run_with_options(tool, tmp_path):
    # learner_noise is read with the fixed width by SCLB's data threshold
    # (colb run refuses an option that no policy reads)
    same_as_cli(tool, tmp_path, env="personalized", users=15, dim=4, arms=7, sigma_theta=0.3,
                normalize=1, horizon=45, repeats=2, seed=123456789, threads=2, curve_points=7,
                policies=["pmlb", "sclb", "pooled"], lambda_=0.5, width="fixed", alpha=0.7,
                learner_noise=0.2, noise=0.3, pmlb_learner="linucb", cmlb_alpha=0.3,
                cmlb_threshold="data")


def test_equal_to_colb_run_with_club_tuning(tool, tmp_path):
    res = same_as_cli(tool, tmp_path, policies=["club", "cmlb"], club_tune=1, club_burn_in=15,
                      club_tune_repeats=1, **SMALL)
    assert res.tuned.startswith("club-alpha=") and res.summary[0]["tuned"] == res.tuned


def test_results_do_not_depend_on_threads():
    a = colb.simulate(policies=["club", "cmlb"], threads=1, **SMALL)
    b = colb.simulate(policies=["club", "cmlb"], threads=2, **SMALL)
    assert (a.regret == b.regret).all()


def test_progress_and_settings():
    seen = []
    res = colb.simulate(policies=["linucb-ind"], progress=lambda d, t: seen.append((d, t)),
                        lambda_=2, **SMALL)
    assert seen[0] == (0, 60) and seen[-1] == (60, 60)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    s = res.settings
    assert s["lambda"] == "2" and s["users"] == "20" and s["delta"] == "0.4"
    assert s["learner-noise"] == s["noise"] == "0.1" and s["seed"] == "7"
    assert "final regret linucb-ind=" in repr(res)


def test_errors():
    with pytest.raises(colb.NotFound, match="unknown policy 'nope'"):
        colb.simulate(policies=["nope"], **SMALL)
    with pytest.raises(colb.InvalidArgument, match="listed twice"):
        colb.simulate(policies=["cmlb", "cmlb"], **SMALL)
    with pytest.raises(colb.InvalidArgument, match="no policies"):
        colb.simulate(policies=[], **SMALL)
    with pytest.raises(colb.InvalidArgument, match="not one of clustered|personalized"):
        colb.simulate(env="lastfm", **SMALL)
    personalized = {k: v for k, v in SMALL.items() if k != "clusters"}
    with pytest.raises(colb.InvalidArgument, match="oracle: needs an environment with true"):
        colb.simulate(env="personalized", policies=["oracle"], **personalized)
    with pytest.raises(colb.NotFound, match="did you mean 'sigma_theta'"):
        colb.simulate(sigma_theat=1, **SMALL)
    with pytest.raises(colb.OutOfRange, match="clusters must be in"):
        colb.simulate(**dict(SMALL, clusters=30))
    with pytest.raises(colb.OutOfMemory, match="budget"):
        colb.simulate(max_memory="1K", **SMALL)


def test_misspelled_parameter_of_simulate():
    """A misspelled parameter of simulate itself (not an option of the
    library) gets the closest name, as a misspelled option does and as
    colb run suggests the closest of all its options: NotFound still."""
    for wrong, right in [("polices", "policies"), ("club_tun", "club_tune"),
                         ("club_burnin", "club_burn_in"), ("progres", "progress"),
                         ("curve_point", "curve_points"), ("horizn", "horizon")]:
        with pytest.raises(colb.NotFound, match=f"did you mean '{right}'"):
            colb.simulate(**{wrong: 1}, **SMALL)
    with pytest.raises(colb.NotFound) as e:  # nothing close: no suggestion
        colb.simulate(xyzzy=1, **SMALL)
    assert "did you mean" not in str(e.value)


def test_options_the_env_does_not_read():
    """An option of the environment that env does not read is refused, as
    colb run refuses it (it was silently ignored): a ValueError naming the
    option and the environment, before any work; the same option for the
    kind that reads it is taken."""
    personalized = {k: v for k, v in SMALL.items() if k != "clusters"}
    cases = [
        ("personalized", {"zipf": 1}, "'zipf' is not used by env='personalized', only by clustered"),
        ("personalized", {"clusters": 3}, "'clusters' is not used by env='personalized'"),
        ("clustered", {"sigma_theta": 0.3}, "'sigma_theta' is not used by env='clustered', only by personalized"),
        ("clustered", {"normalize": True}, "'normalize' is not used by env='clustered'"),
        ("clustered", {"sigma-theta": 0.3}, "'sigma-theta' is not used by env='clustered'"),
    ]
    for env, extra, message in cases:
        base = personalized if env == "personalized" else SMALL
        with pytest.raises(ValueError, match=message) as info:
            colb.simulate(env=env, policies=["random"], **dict(base, **extra))
        assert isinstance(info.value, colb.InvalidArgument) and "leave it out" in str(info.value)
    # read by the chosen kind: taken (and the settings say so)
    res = colb.simulate(env="personalized", policies=["random"], sigma_theta=0.3, normalize=True,
                        **personalized)
    assert res.settings["sigma-theta"] == "0.3" and res.settings["normalize"] == "1"
    res = colb.simulate(env="clustered", policies=["random"], zipf=1, **SMALL)
    assert res.settings["zipf"] == "1"


def test_plot_needs_matplotlib():
    res = colb.simulate(policies=["linucb-ind", "random"], **SMALL)
    try:
        import matplotlib
        matplotlib.use("Agg")
    except ImportError:
        with pytest.raises(ImportError, match="python3-matplotlib"):
            res.plot()
        pytest.skip("matplotlib is not installed (optional): checked the ImportError only")
    ax = res.plot(ratio=True)
    assert len(ax.get_lines()) == 2


def test_plot_ratio_needs_random():
    """The ratio to the random policy's regret of a result without it is
    NaN throughout: plot(ratio=True) raises a ValueError saying so (it drew
    lines of NaN, nothing, without a word), before it needs matplotlib."""
    from colb.plot import plot_result
    res = colb.simulate(policies=["linucb-ind", "cmlb"], **SMALL)
    assert np.isnan(res.ratio_mean).all()
    for call in (lambda: res.plot(ratio=True), lambda: plot_result(res, ratio=True)):
        with pytest.raises(ValueError, match=r"needs 'random' among the policies \(policies="
                                             r"\['linucb-ind', 'cmlb'\]\)"):
            call()


def test_club_alpha_is_colb_runs_override(tool, tmp_path):
    """club_alpha gives CLUB its own exploration alpha, as --club-alpha does
    in colb run (it sets club-own-alpha); a club_own_alpha given with it
    decides, before or after it, as --club-own-alpha does: with 0, CLUB
    explores with the shared width and club_alpha would change nothing, so
    simulate refuses it as colb run refuses --club-alpha with
    --club-own-alpha 0."""
    res = same_as_cli(tool, tmp_path, policies=["club", "cmlb"], club_alpha=0.3, **SMALL)
    assert res.info[0][0].startswith("alpha=0.3 ") and res.settings["club-own-alpha"] == "1"
    assert colb.Policy("club", 4, 2, club_alpha=0.3).options["club_own_alpha"] is True
    assert colb.Policy("club", 4, 2, club_alpha=0.3,
                       club_own_alpha=False).options["club_own_alpha"] is False
    assert colb.Policy("club", 4, 2, club_own_alpha=False,
                       club_alpha=0.3).options["club_own_alpha"] is False
    assert colb.Policy("club", 4, 2).options["club_own_alpha"] is False
    want = same_as_cli(tool, tmp_path / "own0", policies=["club"], club_own_alpha=0, **SMALL)
    assert want.settings["club-own-alpha"] == "0"
    for order in ({"club_alpha": 0.3, "club_own_alpha": 0}, {"club_own_alpha": 0, "club_alpha": 0.3}):
        with pytest.raises(colb.InvalidArgument,
                           match="'club_alpha' is not read by .*only with club_own_alpha=True"):
            colb.simulate(policies=["club"], **order, **SMALL)
        with pytest.raises(subprocess.CalledProcessError) as refused:
            run_cli(tool, tmp_path / str(list(order)), policies=["club"], **order, **SMALL)
        assert refused.value.returncode == 2
        assert b"--club-alpha is not read with --club-own-alpha 0" in refused.value.stderr


def test_to_csv_from_threads(tmp_path):
    """Threads writing results into one folder each use a temporary of their
    own: every file ends whole, none is left behind."""
    import threading
    res = colb.simulate(policies=["linucb-ind"], users=4, clusters=2, dim=2, arms=3, horizon=20,
                        repeats=2)
    errors = []

    def write():
        try:
            for _ in range(20):
                res.to_csv(tmp_path)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    ts = [threading.Thread(target=write) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.csv", "summary.csv"]
    assert (tmp_path / "summary.csv").read_text().count("\n") == 2


def test_to_csv_cleans_up_after_crashes_and_failures(tmp_path):
    """to_csv writes through the library's atomic writer (colb_file_write):
    the temporaries a killed writer left (summary.csv.tmp.PID.N, its PID no
    process) are removed by the next write; a write that fails (a folder in
    the way) raises InputOutputError naming the file and leaves the old
    files as they were and no temporary."""
    import subprocess
    import sys
    res = colb.simulate(policies=["linucb-ind"], users=4, clusters=2, dim=2, arms=3, horizon=20,
                        repeats=2)
    res.to_csv(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()                                 # its PID is no process any more
    for name in ("summary.csv", "curves.csv"):
        (tmp_path / f"{name}.tmp.{child.pid}.5").write_text("half a file")
    (tmp_path / f"other.csv.tmp.{child.pid}.5").write_text("not ours")
    res.to_csv(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["curves.csv", f"other.csv.tmp.{child.pid}.5", "summary.csv"]
    (tmp_path / f"other.csv.tmp.{child.pid}.5").unlink()
    curves = (tmp_path / "curves.csv").read_text()
    (tmp_path / "summary.csv").unlink()
    (tmp_path / "summary.csv").mkdir()
    with pytest.raises(colb.InputOutputError, match="summary.csv") as e:
        res.to_csv(tmp_path)
    assert isinstance(e.value, OSError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.csv", "summary.csv"]
    assert (tmp_path / "curves.csv").read_text() == curves


def test_options_no_policy_reads_are_refused(tool, tmp_path):
    """An option of the policies that no chosen policy reads as set raises
    InvalidArgument (a ValueError) naming the option and the policies that
    would read it, as colb run refuses it (the library's rules,
    colb_sim_spec_param_read); one that some policy reads runs."""
    small = dict(SMALL, horizon=10, repeats=1)
    refused = [
        (dict(policies=["club"], cmlb_alpha=0.2), "'cmlb_alpha' is read only by cmlb, sclb, none"),
        (dict(policies=["linucb-ind"], width="oful", alpha=0.5), "'alpha' is not read .*width='fixed'"),
        (dict(policies=["linucb-ind"], delta=0.1), "'delta' is not read .*linucb-ind could read "
                                                   "it, but it is read only with width='oful'"),
        (dict(policies=["cmlb"], cmlb_gamma=0.5, cmlb_threshold="data"), "'cmlb_threshold' is not"),
        (dict(policies=["club"], club_tune=True, club_burn_in=5, club_alpha2=2.0),
         "'club_alpha2' is not read .*only with club_tune=False"),
    ]
    for i, (kw, match) in enumerate(refused):
        with pytest.raises(colb.InvalidArgument, match=match) as e:
            colb.simulate(**kw, **small)
        assert isinstance(e.value, ValueError)
        with pytest.raises(subprocess.CalledProcessError) as cli:   # colb run refuses it too
            run_cli(tool, tmp_path / str(i), **{k: int(v) if v is True else v for k, v in kw.items()},
                    **small)
        assert cli.value.returncode == 2 and b"leave it out" in cli.value.stderr
    # read: by one policy of several, by the width in force, by an alias
    for kw in (dict(policies=["linucb-ind", "cmlb"], delta=0.1),
               dict(policies=["linucb-ind"], width="oful", learner_noise=0.2),
               dict(policies=["club"], club_alpha=0.3),
               dict(policies=["recommended"], learner_noise=0.2)):
        assert colb.simulate(**kw, **small).regret.shape[0] == len(kw["policies"])


def test_simulate_refuses_what_colb_run_refuses():
    small = dict(users=6, horizon=5, repeats=1)
    with pytest.raises(colb.InvalidArgument, match="not a str"):
        colb.simulate(policies=[b"random", "cmlb"], **small)
    with pytest.raises(colb.InvalidArgument, match="same policy"):
        colb.simulate(policies=["cohort", "recommended"], **small)
    with pytest.raises(colb.InvalidArgument, match="given twice"):
        colb.simulate(policies=["linucb-ind"], lambda_=0.5, **{"lambda": 0.7}, **small)
    with pytest.raises(colb.InvalidArgument, match="club_tune: read only by club"):
        colb.simulate(policies=["linucb-ind"], club_tune=True, **small)
    with pytest.raises(colb.InvalidArgument, match="read only with club_tune=True"):
        colb.simulate(policies=["club"], club_burn_in=50, **small)
    with pytest.raises(colb.InvalidArgument, match="choose one"):
        colb.simulate(policies=["club"], club_tune=True, club_own_alpha=False, **small)
