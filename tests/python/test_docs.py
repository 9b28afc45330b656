"""The examples of docs/python.md run as written: each ```python block in
turn in one namespace, a block of >>> lines as a doctest; in a process of
their own (its heap does not blur test_leaks' measurements) in a temporary
folder (an example writes results/py)."""
import doctest
import os
import pathlib
import re
import subprocess
import sys

from conftest import ROOT, SANITIZED


def run_examples(sanitized):
    text = (ROOT / "docs" / "python.md").read_text()
    scope, ran = {}, 0
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        if block.startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(block, scope, "python.md", None, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test, clear_globs=False)
            failed, attempted = runner.summarize(verbose=False)
            assert attempted and not failed, block
        elif re.match(r"colb\.\w+\(.*\)\s*$", block, re.S) and "=" not in block.split("(")[0]:
            continue                                     # a signature, not code
        elif "simulate(" in block and sanitized:
            continue                                     # minutes under ASan
        else:
            exec(compile(block, "python.md", "exec"), scope)
        ran += 1
    # the sanitizer build skips the simulate block
    assert ran >= (2 if sanitized else 3) and os.path.exists("results/py/summary.csv") == (not sanitized)


def test_python_md_examples_run(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "python"),
                                                       str(pathlib.Path(__file__).parent)]))
    if env.get("COLB_LIBRARY"):
        env["COLB_LIBRARY"] = os.path.abspath(env["COLB_LIBRARY"])
    subprocess.run([sys.executable, "-c", f"import test_docs; test_docs.run_examples({SANITIZED})"],
                   cwd=tmp_path, env=env, check=True, timeout=600)
