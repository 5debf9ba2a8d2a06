"""The notebook machinery: student generation, records, exercise checkers."""

import nbformat
import pytest

from course_lib.notebook import exercises
from course_lib.notebook.exercises import run_check
from tools.notebooks import clean_metadata, make_student, strip_solutions
from course_lib.notebook.record import MIME, read_records, to_plain

SOLVED = """def f(x):
    \"\"\"Double x.\"\"\"
    ### BEGIN SOLUTION
    y = 2 * x
    return y
    ### END SOLUTION
"""


def test_region_in_a_function_body_becomes_raise_not_implemented():
    src, n = strip_solutions(SOLVED)
    assert n == 1
    assert src == 'def f(x):\n    """Double x."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
    ns = {}
    exec(src, ns)  # defining the stub raises nothing
    with pytest.raises(NotImplementedError):
        ns["f"](1)


def test_top_level_region_becomes_an_ellipsis_not_a_raise():
    src, n = strip_solutions("a = 1\n### BEGIN SOLUTION\nb = a + 1\n### END SOLUTION\nc = 3")
    assert (src, n) == ("a = 1\n# YOUR CODE HERE\n...\nc = 3", 1)
    exec(src, {})


@pytest.mark.parametrize("bad", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
])
def test_unbalanced_markers_are_reported(bad):
    with pytest.raises(ValueError, match="SOLUTION"):
        strip_solutions(bad)


def _nb():
    nb = nbformat.v4.new_notebook()
    solved = nbformat.v4.new_code_cell(SOLVED, execution_count=1,
                                       outputs=[nbformat.v4.new_output("stream", text="hi\n")])
    check = nbformat.v4.new_code_cell("check(f)", execution_count=2, metadata={"tags": ["exercise-check"]},
                                      outputs=[nbformat.v4.new_output("stream", text="passed\n")])
    plot = nbformat.v4.new_code_cell("plot()", execution_count=3,
                                     outputs=[nbformat.v4.new_output("stream", text="figure\n")])
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), solved, check, plot]
    return nb


def test_student_version_clears_exercise_outputs_and_keeps_the_rest():
    sol = _nb()
    st = make_student(sol)
    assert "raise NotImplementedError()" in st.cells[1].source
    assert st.cells[1].outputs == [] and st.cells[1].execution_count is None
    assert st.cells[2].outputs == []
    assert st.cells[3].outputs[0].text == "figure\n"
    assert "y = 2 * x" in sol.cells[1].source, "the solution itself is left untouched"


def test_markers_in_prose_are_rejected():
    nb = _nb()
    nb.cells[0].source = "Write your code between ### BEGIN SOLUTION and the end marker"
    with pytest.raises(ValueError, match="code cells"):
        make_student(nb)


def test_clean_metadata_drops_run_details_and_widget_views():
    nb = _nb()
    nb.metadata["papermill"] = {"duration": 3.2}
    nb.cells[3].metadata["execution"] = {"iopub.execute_input": "2026"}
    nb.cells[3].outputs.append(nbformat.v4.new_output(
        "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/plain": "w"}))
    clean_metadata(nb)
    assert "papermill" not in nb.metadata and nb.metadata["kernelspec"]["name"] == "python3"
    assert "execution" not in nb.cells[3].metadata
    assert len(nb.cells[3].outputs) == 1


def test_record_values_round_to_four_significant_digits_and_read_back():
    assert to_plain({"a": 0.123456, "b": [1, 2.0001234], "c": True}) == {"a": 0.1235, "b": [1, 2.0], "c": True}
    with pytest.raises(ValueError, match="finite"):
        to_plain(float("nan"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "display_data", data={MIME: {"name": "ctr", "value": 0.12}, "text/plain": "ctr = 0.12"})])]
    assert read_records(nb) == {"ctr": 0.12}


def _check_double(fn):
    assert fn(3) == 6, f"f(3) should be 6, got {fn(3)}"


def _unsolved(x):
    raise NotImplementedError()


def test_checker_is_friendly_in_a_student_notebook(monkeypatch):
    monkeypatch.setenv(exercises.VARIANT_ENV, "notebooks")
    ref = lambda x: 2 * x  # noqa: E731
    res = run_check("double", _unsolved, ref, _check_double)
    assert res.status == "unsolved" and res.use is ref and "not solved yet" in res.message
    res = run_check("double", lambda x: x + 2, ref, _check_double)
    assert res.status == "failed" and res.use is ref and "should be 6" in res.message
    res = run_check("double", lambda x: 1 / 0, ref, _check_double)
    assert res.status == "failed" and "ZeroDivisionError" in res.message
    good = lambda x: x * 2  # noqa: E731
    res = run_check("double", good, ref, _check_double)
    assert res.passed and res.use is good


def test_checker_asserts_in_a_solution_notebook(monkeypatch):
    monkeypatch.setenv(exercises.VARIANT_ENV, "solutions")
    with pytest.raises(AssertionError, match="unsolved"):
        run_check("double", _unsolved, lambda x: 2 * x, _check_double)
    with pytest.raises(AssertionError, match="should be 6"):
        run_check("double", lambda x: x + 2, lambda x: 2 * x, _check_double)


def test_variant_follows_the_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(exercises.VARIANT_ENV, raising=False)
    monkeypatch.setattr(exercises, "_declared", None)
    (tmp_path / "solutions").mkdir()
    monkeypatch.chdir(tmp_path / "solutions")
    assert exercises.notebook_variant() == "solutions"
    monkeypatch.chdir(tmp_path)
    assert exercises.notebook_variant() == "notebooks"


def test_declared_variant_wins_over_the_folder_and_the_generator_flips_it(monkeypatch, tmp_path):
    monkeypatch.delenv(exercises.VARIANT_ENV, raising=False)
    monkeypatch.setattr(exercises, "_declared", None)
    monkeypatch.chdir(tmp_path)  # not a folder named solutions
    exercises.use_variant("solutions")
    assert exercises.notebook_variant() == "solutions"
    monkeypatch.setenv(exercises.VARIANT_ENV, "notebooks")  # the environment still overrides
    assert exercises.notebook_variant() == "notebooks"
    with pytest.raises(ValueError, match="variant must be"):
        exercises.use_variant("student")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('import x\nuse_variant("solutions")  # stops on a wrong exercise\nx.go()')]
    assert make_student(nb).cells[0].source == 'import x\nuse_variant("notebooks")\nx.go()'


def test_every_solution_declares_its_variant():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert 'use_variant("solutions")' in code, path.name


def test_record_is_silent_for_the_student(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    from course_lib.notebook.record import record

    record("ctr", 0.123456)
    assert shown == [({MIME: {"name": "ctr", "value": 0.1235}}, True)]  # no text/plain: nothing to read
    from nbconvert import HTMLExporter, MarkdownExporter

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("record('ctr', value)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=shown[0][0])]
    nb.cells = [cell]
    with pytest.warns(UserWarning, match="not able to be represented"):
        md, _ = MarkdownExporter().from_notebook_node(nb)
    assert "0.1235" not in md and "ctr =" not in md
    with pytest.warns(UserWarning):
        html, _ = HTMLExporter().from_notebook_node(nb)
    assert "0.1235" not in html


def test_xdist_loadgroup_keeps_a_group_on_one_worker(tmp_path):
    """`make test` relies on it: nbval cells of a notebook share a kernel, lesson tests share one run."""
    import re
    import subprocess
    import sys

    (tmp_path / "test_groups.py").write_text(
        "import pytest\n"
        "@pytest.mark.parametrize('i', range(8))\n"
        "@pytest.mark.xdist_group('one')\n"
        "def test_a(i):\n    pass\n"
        "@pytest.mark.parametrize('i', range(8))\n"
        "def test_b(i):\n    pass\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
                          "-p", "no:cacheprovider", "-p", "no:nbval", str(tmp_path / "test_groups.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120).stdout
    workers = set(re.findall(r"\[(gw\d)\].*PASSED.*test_a\[", out))
    assert len(workers) == 1, f"group 'one' ran on {sorted(workers)}: xdist's loadgroup is broken\n{out}"


def test_slider_plot_draws_the_defaults_then_redraws_on_change(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.notebook import widgets

    shown, calls = [], []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def fake_display(obj, display_id=None):
        shown.append(("display", obj))
        return Handle() if display_id else None

    monkeypatch.setattr(widgets, "display", fake_display)

    def draw(eta, k):
        calls.append((eta, k))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, eta])
        plt.show()

    eta = widgets.log_slider(0.1, 0.001, 1.0, "eta")
    k = widgets.int_slider(3, 1, 9)
    assert widgets.slider_plot(draw, eta=eta, k=k) is None
    assert calls == [(0.1, 3)]
    assert [kind for kind, _ in shown] == ["display", "display"]
    assert isinstance(shown[0][1], widgets.w.HBox) and isinstance(shown[1][1], plt.Figure)
    k.value = 5
    assert calls[-1] == (0.1, 5) and shown[-1][0] == "update" and isinstance(shown[-1][1], plt.Figure)
    assert plt.get_fignums() == []  # every figure is closed: nothing is shown twice at the cell's end
    with pytest.raises(ValueError, match="made no matplotlib figure"):
        widgets.slider_plot(lambda eta: None, eta=widgets.float_slider(0.5, 0, 1, 0.1))
    with pytest.raises(ValueError, match="at least one slider"):
        widgets.slider_plot(draw)
