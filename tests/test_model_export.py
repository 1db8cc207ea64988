"""Issue 19 item 6: a generator exported for other runtimes (SavedModel, TFLite, ONNX), each export run back and
compared with the Keras generator on the same z, a conditional one with its int label input; refusals that leave
what was there untouched; the CLI's `export-model` and the Export page's section."""
import importlib.util
import io
import json
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gan_core import cli
from gan_core import latent_space
from gan_core.errors import ConfigError, DependencyError, GanError
from gan_core.explore import app_exports, model_export
from gan_core.inference import Generator
from gan_core.runs import resolve_run

from conftest import under_ci

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "pretrained"
FAST_MODELS = ["mnist_dcgan", "mnist_cdcgan"]  # unconditional and class-conditional 28x28 gray
HAS_ONNX = all(importlib.util.find_spec(m) for m in ("tf2onnx", "onnx", "onnxruntime"))


def require_onnx() -> None:
    """ONNX needs the export extra: a test skips without it, except under CI (which installs
    requirements-dev.txt, and with it .[export]), where a missing package fails rather than hides the test."""
    if HAS_ONNX:
        return
    message = 'tf2onnx/onnxruntime are not installed (pip install ".[export]")'
    if under_ci():
        pytest.fail(f"{message}; under CI the export extra is installed", pytrace=False)
    pytest.skip(message)


def generator_of(name: str) -> Generator:
    return Generator.from_run(resolve_run(PRETRAINED / name))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (generator, report) of each model exported in every format, once for the module."""
    require_onnx()
    done = {}

    def export(name: str):
        if name not in done:
            generator = generator_of(name)
            out = tmp_path_factory.mktemp("export") / name
            done[name] = generator, model_export.export_generator(generator, out)
        return done[name]
    return export


def keras_raw(generator: Generator, z: np.ndarray, labels=None) -> np.ndarray:
    inputs = z if labels is None else [z, np.eye(generator.num_classes, dtype=np.float32)[labels]]
    return np.asarray(generator.model(inputs, training=False), np.float32)


# --- each format, checked by the module and again here -----------------------------------------------------------

@pytest.mark.parametrize("name", FAST_MODELS + [pytest.param("faces_rgb64", marks=pytest.mark.slow)])
def test_every_format_gives_the_keras_generator_s_images(exported, name):
    generator, report = exported(name)
    out = Path(report.out_dir)
    assert [r.format for r in report.formats] == ["savedmodel", "tflite", "onnx"] and report.ok
    diffs = {r.format: r for r in report.formats}
    assert diffs["savedmodel"].max_abs_diff < 1e-5  # the same graph, run by TensorFlow
    assert diffs["onnx"].max_abs_diff < 1e-3 and diffs["tflite"].max_abs_diff < 1e-3
    assert all(r.max_abs_diff_uint8 <= 1 for r in report.formats)
    assert all(r.batch is None for r in report.formats)  # any batch size
    assert sorted(p.name for p in out.iterdir()) == ["export_report.json", "generator.onnx", "generator.tflite",
                                                     "savedmodel"]
    assert not list(out.parent.glob(".tmp-*"))  # the staging folder became the export
    on_disk = json.loads((out / model_export.REPORT_FILE).read_text())
    assert on_disk == json.loads(json.dumps(report.to_dict()))
    assert on_disk["outputs"][0]["range"] == [-1.0, 1.0] and on_disk["outputs"][0]["shape"] == [None,
                                                                                                *generator.image_shape]
    assert [i["name"] for i in on_disk["inputs"]] == (["z", "label"] if generator.conditional else ["z"])
    assert {"tensorflow", "keras", "tf2onnx", "onnxruntime"} <= set(on_disk["versions"])


def run_savedmodel(path: Path, z, labels=None) -> np.ndarray:
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    feeds = {"z": tf.constant(z)} | ({} if labels is None else {"label": tf.constant(labels, tf.int32)})
    return serve(**feeds)["images"].numpy()


def run_tflite(path: Path, z, labels=None) -> np.ndarray:
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation
        interpreter = tf.lite.Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    feeds = {"z": z} | ({} if labels is None else {"label": np.asarray(labels, np.int32)})
    return runner(**feeds)["images"]


def run_onnx(path: Path, z, labels=None) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in session.get_inputs()] == [("z", "tensor(float)")] + (
        [] if labels is None else [("label", "tensor(int32)")])
    assert [o.name for o in session.get_outputs()] == ["images"]
    feeds = {"z": z} | ({} if labels is None else {"label": np.asarray(labels, np.int32)})
    return session.run(None, feeds)[0]


RUNNERS = {"savedmodel": run_savedmodel, "tflite": run_tflite, "onnx": run_onnx}


@pytest.mark.parametrize("fmt", model_export.FORMATS)
def test_an_unconditional_export_runs_on_its_own_for_new_seeds(exported, fmt):
    generator, report = exported("mnist_dcgan")
    z = latent_space.z_from_seeds(range(100, 105), generator.noise_dim, generator.noise)
    got = RUNNERS[fmt](Path(report.out_dir) / model_export.FILES[fmt], z)
    assert got.shape == (5, 28, 28, 1)
    assert np.abs(got - keras_raw(generator, z)).max() < 1e-3
    np.testing.assert_allclose(np.round((got + 1) / 2 * 255), generator.images_uint8(z)[..., :], atol=1)


@pytest.mark.parametrize("fmt", model_export.FORMATS)
def test_a_conditional_export_takes_the_class_as_an_int_label(exported, fmt):
    generator, report = exported("mnist_cdcgan")
    z = np.repeat(latent_space.z_from_seeds([7], generator.noise_dim, generator.noise), 3, axis=0)
    labels = np.array([3, 7, 7], np.int32)
    got = RUNNERS[fmt](Path(report.out_dir) / model_export.FILES[fmt], z, labels)
    assert np.abs(got - keras_raw(generator, z, labels)).max() < 1e-3
    assert np.abs(got[0] - got[1]).max() > 0.5  # the label changes the digit, the same z or not
    np.testing.assert_allclose(got[1], got[2], atol=1e-6)
    pixels = np.round((np.clip(got, -1, 1) + 1) / 2 * 255)
    assert np.abs(pixels - generator.images_uint8(z, labels)).max() <= 1


@pytest.mark.slow
def test_an_upsampling_generator_s_tflite_takes_one_image_a_call(tmp_path, capfd):
    """digits32 (UpSampling2D + conv) does not convert with a free batch size; it converts for batch 1, and the
    first attempt's diagnostics do not reach stderr as an "error:" line."""
    report = model_export.export_generator(PRETRAINED / "digits32", tmp_path / "out", ["savedmodel", "tflite"])
    (tflite,) = [r for r in report.formats if r.format == "tflite"]
    assert report.ok and tflite.batch == 1 and tflite.max_abs_diff < 1e-3
    assert "U[0, 1) noise" in report.inputs[0]["meaning"] and report.outputs[0]["range"] == [0.0, 1.0]
    assert "failed while converting" not in capfd.readouterr().err


# --- refusals ------------------------------------------------------------------------------------------------------

def test_without_tf2onnx_onnx_is_refused_naming_the_extra_before_anything_is_written(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # `import tf2onnx` raises ImportError
    out = tmp_path / "out"
    with pytest.raises(DependencyError, match=r'pip install "\.\[export\]"') as info:
        model_export.export_generator(PRETRAINED / "mnist_dcgan", out)
    assert "tf2onnx" in str(info.value) and "gan-explorer[export]" in str(info.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_without_onnxruntime_the_cli_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    code = cli.main(["export-model", str(PRETRAINED / "mnist_dcgan"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "onnxruntime is not installed" in line and 'pip install ".[export]"' in line
    assert not (tmp_path / "out").exists()


def test_a_folder_that_holds_files_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="already holds 1 file"):
        model_export.export_generator(PRETRAINED / "mnist_dcgan", out, ["savedmodel"])
    assert [p.name for p in out.iterdir()] == ["mine.txt"] and (out / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("where,needle", [("a_file", "is a file, not a folder"),
                                          ("a_file/below", "a_file is a file, not a folder")])
def test_a_file_in_the_way_is_refused(tmp_path, where, needle):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ConfigError, match=needle):
        model_export.check_out_dir(tmp_path / where)


def test_a_folder_this_user_cannot_write_is_refused(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(model_export.os, "access", lambda path, mode: Path(path) != locked)  # root may write anything
    with pytest.raises(ConfigError, match="may not write in .*locked"):
        model_export.check_out_dir(locked / "export")


def test_an_empty_folder_is_used_and_a_failure_midway_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "empty"
    out.mkdir()

    def broken(*args):
        raise RuntimeError("a converter bug")

    monkeypatch.setitem(model_export._EXPORTERS, "tflite", broken)
    with pytest.raises(RuntimeError, match="a converter bug"):
        model_export.export_generator(PRETRAINED / "mnist_dcgan", out, ["savedmodel", "tflite"])
    assert list(out.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["empty"]  # no staging left
    monkeypatch.undo()
    report = model_export.export_generator(PRETRAINED / "mnist_dcgan", out, ["savedmodel"], n=2)
    assert report.ok and sorted(p.name for p in out.iterdir()) == ["export_report.json", "savedmodel"]
    with zipfile.ZipFile(io.BytesIO(report.zip_bytes())) as archive:
        assert "empty/export_report.json" in archive.namelist()


@pytest.mark.parametrize("formats,needle", [("png", "unknown export format 'png'"), ("", "at least one"),
                                            (" , ", "at least one")])
def test_unknown_or_no_formats(formats, needle):
    with pytest.raises(ConfigError, match=needle):
        model_export.check_formats(formats)
    assert model_export.check_formats("onnx, SavedModel") == ("savedmodel", "onnx")  # always in FORMATS order


@pytest.mark.parametrize("n,seed,needle", [(0, 0, "1..1024 images"), (2000, 0, "1..1024 images"),
                                           (16, -1, "must lie in"), (16, latent_space.MAX_SEED - 3, "must lie in")])
def test_the_check_s_size_and_seeds(n, seed, needle):
    with pytest.raises(ConfigError, match=needle):
        model_export.check_options(n, seed)


# --- CLI -----------------------------------------------------------------------------------------------------------

def test_cli_export_model_prints_each_format_s_diff(tmp_path, capsys):
    out = tmp_path / "cdcgan"
    code = cli.main(["export-model", str(PRETRAINED / "mnist_cdcgan"), "--out", str(out),
                     "--formats", "savedmodel,tflite", "--n", "4"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    lines = {line.split()[0]: line for line in printed.splitlines() if line.split()}
    assert lines["savedmodel"].split()[-1] == "ok" and lines["tflite"].split()[-1] == "ok"
    assert "onnx" not in lines
    assert "label int32 [N]: class 0..9" in printed and "[-1, 1] (tanh)" in printed
    report = json.loads((out / "export_report.json").read_text())
    assert [f["format"] for f in report["formats"]] == ["savedmodel", "tflite"] and report["check"]["n"] == 4

    code = cli.main(["export-model", str(PRETRAINED / "mnist_cdcgan"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "already holds 3 file(s)" in err and "Traceback" not in err


@pytest.mark.parametrize("argv,needle", [(["--epoch", "5"], "has no generator for epoch 5"),
                                         (["--formats", "jpeg"], "unknown export format 'jpeg'")])
def test_cli_export_model_refusals_are_one_line(tmp_path, capsys, argv, needle):
    code = cli.main(["export-model", str(PRETRAINED / "mnist_dcgan"), "--out", str(tmp_path / "x"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and not (tmp_path / "x").exists()


def test_a_failed_check_is_exit_code_1_with_the_report_kept(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(model_export.TOLERANCE, "savedmodel", -1.0)  # nothing can pass
    code = cli.main(["export-model", str(PRETRAINED / "mnist_dcgan"), "--out", str(tmp_path / "x"),
                     "--formats", "savedmodel", "--n", "2"])
    captured = capsys.readouterr()
    assert code == 1 and "FAILED" in captured.out and "savedmodel differ(s)" in captured.err
    assert json.loads((tmp_path / "x" / "export_report.json").read_text())["formats"][0]["ok"] is False


def test_an_image_to_image_model_is_refused(tmp_path):
    with pytest.raises(GanError, match="image-to-image model"):
        model_export.export_generator(PRETRAINED / "pix2pix_edges_digits", tmp_path / "x", ["savedmodel"])


@pytest.mark.slow
def test_the_app_reuses_an_export_of_the_same_generator_file(tmp_path):
    """Each click of "Export the generator" wrote a new ~27 MB folder for the same file: the same content and
    formats now hand back the first export; other content (or other formats) gets a folder of its own."""
    import shutil

    model = tmp_path / "g.keras"
    shutil.copy(PRETRAINED / "mnist_dcgan" / "generators" / "epoch_0030.keras", model)
    first, reused = app_exports.export_once(Generator.load(model), tmp_path / "out", "g_runtimes", ["savedmodel"])
    assert not reused and Path(first.out_dir).name == "g_runtimes" and first.ok
    again, reused = app_exports.export_once(Generator.load(model), tmp_path / "out", "g_runtimes", ["savedmodel"])
    assert reused and again.out_dir == first.out_dir and again.rows() == first.rows()
    shutil.copy(PRETRAINED / "fashion_dcgan" / "generators" / "epoch_0010.keras", model)  # same path, new content
    other, reused = app_exports.export_once(Generator.load(model), tmp_path / "out", "g_runtimes", ["savedmodel"])
    assert not reused and Path(other.out_dir).name == "g_runtimes-2"
    assert [e.path.name for e in app_exports.find(tmp_path / "out")] == ["g_runtimes", "g_runtimes-2"]


# --- the Export page -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_export_page_exports_the_generator_for_other_runtimes(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    require_onnx()
    runs = tmp_path / "runs"
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(runs))  # no runs: the page opens on pretrained mnist_dcgan
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/export.py").run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    boxes = {b.label: b for b in at.checkbox if b.key and b.key.startswith("runtime_")}
    assert list(boxes) == ["SavedModel", "TFLite", "ONNX"] and all(b.value for b in boxes.values())

    for box in boxes.values():
        box.uncheck()
    next(b for b in at.button if b.key == "runtime_export").click().run()
    assert any("pick at least one export format" in e.value for e in at.error)

    boxes = {b.label: b for b in at.checkbox if b.key and b.key.startswith("runtime_")}
    for box in boxes.values():
        box.check()
    next(b for b in at.button if b.key == "runtime_export").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (table,) = at.dataframe
    rows = table.value
    assert list(rows["format"]) == ["savedmodel", "tflite", "onnx"] and set(rows["check"]) == {"ok"}
    (folder,) = (runs / "_exports").rglob("export_report.json")
    assert folder.parent.name == "mnist_dcgan_epoch0030_runtimes"
    assert "runtime_zip" in [d.key for d in at.get("download_button")]

    next(b for b in at.button if b.key == "runtime_export").click().run()  # again: the same file, reused
    assert not at.error and any("reused" in c.value for c in at.caption)
    assert [p.parent.name for p in (runs / "_exports").rglob("export_report.json")] == [
        "mnist_dcgan_epoch0030_runtimes"]
    next(b for b in at.checkbox if b.key == "runtime_onnx").uncheck()  # other formats: a new folder beside it
    next(b for b in at.button if b.key == "runtime_export").click().run()
    assert not at.error
    assert sorted(p.parent.name for p in (runs / "_exports").rglob("export_report.json")) == [
        "mnist_dcgan_epoch0030_runtimes", "mnist_dcgan_epoch0030_runtimes-2"]
