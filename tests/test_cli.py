"""Issue 15: every hostile command line of items 5 and 6 ends in one `error: ...` line and exit code 2, leaves no
run folder behind, and never prints a traceback (in-process through gan_core.cli.main, as `python -m gan_core`)."""
import argparse
import json
import shutil
from pathlib import Path

import pytest

from gan_core import cli, config, preflight

ROOT = Path(__file__).resolve().parents[1]
DENSE = ROOT / "pretrained" / "mnist_dense"  # a shipped latent GAN with snapshot grids: no training needed
GIB = 1024**3


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """(exit code, stderr) of one command; argparse's own refusals exit through SystemExit(2)."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:") or ": error:" in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def dense_copy(tmp_path) -> Path:
    target = tmp_path / "00000-dense"
    shutil.copytree(DENSE, target)
    return target


@pytest.fixture
def runs_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    monkeypatch.setenv("GAN_EXPLORER_RUNS", str(root))
    return root


def no_run_folders(root: Path) -> bool:
    return not root.exists() or not [p for p in root.iterdir() if p.name[:5].isdigit()]


# --- item 5: tracebacks instead of one-line messages ---------------------------------------------------------------

@pytest.mark.parametrize("sets,needle", [
    ("noise_dim=200000", "noise_dim must be at most 4096"),
    ("noise_dim=10000000", "noise_dim must be at most 4096"),
    ("image_size=4096", "image_size must be at most 1024"),
    ("threads=1000000", "threads must be at most 1024"),  # before: a segfault after 18 GB of thread stacks
])
def test_train_settings_past_the_limits_are_refused_before_a_run_folder(capsys, runs_root, mnist_npz, sets, needle):
    code, err = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--set", sets)
    assert code == 2 and needle in error_line(err)
    assert no_run_folders(runs_root)


def test_train_epochs_beyond_any_run_are_refused(capsys, runs_root, mnist_npz):
    code, err = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--epochs", 10**20)
    assert code == 2 and "epochs must be at most 100000" in error_line(err)
    code, err = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--epochs", "1e20")
    assert code == 2 and "invalid int value: '1e20'" in err
    code, err = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--set", "epochs=1e20")
    assert code == 2 and "epochs takes a whole number; got '1e20'" in error_line(err)
    assert no_run_folders(runs_root)


def test_models_too_big_for_memory_are_refused_before_a_run_folder(capsys, runs_root, mnist_npz, monkeypatch):
    monkeypatch.setattr(preflight, "available_memory", lambda: preflight.Memory(host=8 * GIB, gpu=None))
    code, err = run_cli(capsys, "train", "--preset", "mnist_dcgan", "--data", mnist_npz, "--set", "image_size=1024")
    assert code == 2 and "needs at least" in error_line(err) and "lower noise_dim, image_size or batch_size" in err
    assert no_run_folders(runs_root)


def test_sample_scale_3000_and_scale_0(capsys, tmp_path):
    code, err = run_cli(capsys, "sample", DENSE, "--scale", 3000, "--out", tmp_path / "x.png")
    assert code == 2 and "the most is 8192 a side" in error_line(err)  # before: a 125 GiB MemoryError traceback
    code, err = run_cli(capsys, "sample", DENSE, "--scale", 0, "--out", tmp_path / "x.png")
    assert code == 2 and "--scale must be 1 or more" in error_line(err)
    assert not (tmp_path / "x.png").exists()


def test_sample_out_an_existing_folder(capsys, tmp_path):
    code, err = run_cli(capsys, "sample", DENSE, "--out", tmp_path)
    assert code == 2 and f"{tmp_path} is a folder: give a file name, e.g. {tmp_path / 'grid.png'}" in error_line(err)
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


@pytest.mark.parametrize("flag,value,needle", [("--fps", "nan", "frames per second"),
                                               ("--fps", "inf", "frames per second"),
                                               ("--loop", "-1", "loop must be 0 (forever) to 65535"),
                                               ("--loop", "70000", "loop must be 0 (forever) to 65535")])
def test_gif_fps_and_loop_a_gif_cannot_store(capsys, tmp_path, flag, value, needle):
    code, err = run_cli(capsys, "gif", DENSE, "--out", tmp_path / "a.gif", flag, value)
    assert code == 2 and needle in error_line(err)
    assert not (tmp_path / "a.gif").exists()


def test_gif_out_an_existing_folder(capsys, tmp_path):
    code, err = run_cli(capsys, "gif", DENSE, "--out", tmp_path)
    assert code == 2 and "is a folder" in error_line(err)


@pytest.mark.parametrize("field,value,needle", [
    ("epochs", "3", "epochs must be a whole number; got '3' (text)"),
    ("batch_size", None, "batch_size must be a whole number; got null"),
    ("epochs", [3], "epochs must be a whole number; got [3] (a list)"),
])
def test_resume_of_a_config_with_wrong_types(capsys, dense_copy, field, value, needle):
    config = json.loads((dense_copy / "config.json").read_text())
    config[field] = value
    (dense_copy / "config.json").write_text(json.dumps(config))
    before = sorted(p.name for p in dense_copy.rglob("*"))
    code, err = run_cli(capsys, "train", "--resume", dense_copy, "--epochs", 100)
    assert code == 2 and needle in error_line(err) and "config.json" in err
    assert sorted(p.name for p in dense_copy.rglob("*")) == before  # nothing written


def test_resume_of_a_config_that_is_a_list(capsys, dense_copy):
    (dense_copy / "config.json").write_text("[1, 2]")
    code, err = run_cli(capsys, "train", "--resume", dense_copy)
    assert code == 2 and "config.json is not a JSON object (it holds a list)" in error_line(err)


def test_resume_with_a_latest_json_without_dir(capsys, dense_copy, mnist_npz, monkeypatch):
    from gan_core.train import LatentTrainer as Trainer

    monkeypatch.setenv("GAN_EXPLORER_DATA", str(mnist_npz.parent))
    monkeypatch.setattr(Trainer, "run_epochs", lambda self: "done")  # whatever the fix does, never train here
    (dense_copy / "checkpoints").mkdir(exist_ok=True)
    (dense_copy / "checkpoints" / "latest.json").write_text('{"epoch": 80, "step": 18720}')
    code, err = run_cli(capsys, "train", "--resume", dense_copy, "--epochs", 81, "--quiet")  # KeyError escapes
    assert code in (0, 2)
    if code == 2:
        error_line(err)


def test_runs_and_stop_on_a_folder_whose_json_is_a_list(capsys, runs_root, dense_copy):
    runs_root.mkdir()
    bad = Path(shutil.copytree(dense_copy, runs_root / "00001-bad"))
    shutil.copytree(dense_copy, runs_root / "00002-good")
    (bad / "status.json").write_text('["running"]')
    code, err = run_cli(capsys, "runs", "--runs-dir", runs_root)
    assert code == 0 and "skipped 00001-bad: status.json is not a JSON object (it holds a list)" in err
    code, err = run_cli(capsys, "stop", bad)
    assert code == 2 and "run 00001-bad cannot be used: status.json is not a JSON object" in error_line(err)


# --- item 6: misleading messages -------------------------------------------------------------------------------------

@pytest.mark.parametrize("content,needle", [(b"", "it is empty (0 bytes), not a .keras file"),
                                            (b"PK? no, text", "it is not a .keras file (a .keras file is a zip")])
def test_a_zero_byte_or_non_zip_keras_file(capsys, tmp_path, content, needle):
    path = tmp_path / "model.keras"
    path.write_bytes(content)
    code, err = run_cli(capsys, "sample", path, "--out", tmp_path / "x.png")
    assert code == 2 and needle in error_line(err) and "not found" not in err.lower()


def test_sample_seed_4294967294_names_the_grid_s_last_seed(capsys, tmp_path):
    code, err = run_cli(capsys, "sample", DENSE, "--seed", 4294967294, "--out", tmp_path / "x.png")
    assert code == 2
    assert ("a grid of 16 from seed 4294967294 needs seeds up to 4294967309, past the last seed 4294967295: start "
            "at 4294967280 or lower") in error_line(err)


@pytest.mark.parametrize("n", ["0", "-5"])
def test_evaluate_n_0_and_negative(capsys, n):
    code, err = run_cli(capsys, "evaluate", DENSE, "--n", n, "--no-record")
    assert code == 2 and "--n must be 2 to 100000 images per set" in error_line(err) and f"got {n}" in err


@pytest.mark.parametrize("preset,field", [("pix2pix_edges_digits", "l1_weight"), ("cyclegan_mnist_fashion",
                                                                                  "cycle_weight")])
def test_nan_loss_weights_are_refused_in_validation(capsys, runs_root, mnist_npz, preset, field):
    code, err = run_cli(capsys, "train", "--preset", preset, "--data", mnist_npz, "--set", f"{field}=nan")
    assert code == 2 and f"{field} must be a finite number; got nan" in error_line(err)
    assert no_run_folders(runs_root)


def test_data_pointed_at_a_file_that_is_not_a_dataset(capsys, runs_root, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$s3cr3t:19000:0:99999:7:::\n")
    code, err = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", secret)
    line = error_line(err)
    assert code == 2 and "is not an IDX image file" in line
    assert "root" not in line.replace(str(secret), "") and "0x" not in line
    assert no_run_folders(runs_root)  # validated first: no failed run left behind


def test_data_that_does_not_exist_leaves_no_failed_run(capsys, runs_root, tmp_path):
    code, err = run_cli(capsys, "train", "--preset", "faces_rgb64", "--data", tmp_path / "no-faces")
    assert code == 2 and "does not exist" in error_line(err)
    assert no_run_folders(runs_root)


@pytest.mark.parametrize("name", ["тест", "数字"])
def test_non_ascii_run_names_are_a_clear_message(capsys, runs_root, mnist_npz, name):
    code, err = run_cli(capsys, "train", "--preset", "mnist_dense", "--data", mnist_npz, "--name", name, "--epochs", 1)
    assert code == 2 and "has letters a folder name cannot keep" in error_line(err)
    assert no_run_folders(runs_root)


def test_a_bad_directions_seed_is_one_line(capsys):
    code, err = run_cli(capsys, "directions", DENSE, "--seed", -1)
    assert code == 2 and "seed must be 0..4294967295; got -1" in error_line(err)


@pytest.mark.parametrize("argv", [["project", DENSE, "x.png", "--lr=--"],
                                  ["sample", DENSE, "--out", "x.png", "--psi=--"],
                                  ["gif", DENSE, "--out", "x.gif", "--fps=--"]])
def test_a_numeric_option_given_double_dash_is_refused_like_any_non_number(capsys, argv):
    # found by test_cli_fuzz: argparse (3.11) makes `--lr=--` an empty list, and project failed with a TypeError
    code, err = run_cli(capsys, *argv)
    assert code == 2 and "expected a number; got []" in err


# --- the training progress bar (tqdm) -------------------------------------------------------------------------------

def _window(epoch: int, done: int, eta: float) -> dict:
    return {"kind": "window", "epoch": epoch, "epochs": 2, "step_in_epoch": done, "steps_per_epoch": 8,
            "g_loss": 1.25, "d_loss": 0.5, "images_per_sec": 640.0, "eta_s": eta}


def _epoch(epoch: int) -> dict:
    return {"kind": "epoch", "epoch": epoch, "epochs": 2, "seconds": 1.5, "g_loss": 1.25, "d_loss": 0.5,
            "d_real": 0.75, "d_fake": 0.25}


def test_the_progress_bar_draws_steps_losses_and_the_run_eta_then_one_line_per_epoch(capsys):
    bar = cli.ProgressBar(quiet=False)
    bar(_window(1, 4, 65))
    bar.write("a trainer's message")
    bar(_window(1, 8, 60))
    bar(_epoch(1))
    bar(_window(2, 2, 30))
    bar.close()
    err = capsys.readouterr().err
    frames = err.replace("\r", "\n").splitlines()
    assert any("epoch 1/2" in f and "4/8" in f and "g 1.250 d 0.500" in f and "640 img/s" in f
               and "run ETA 1:05" in f for f in frames), err
    assert any("epoch 2/2" in f and "2/8" in f and "run ETA 0:30" in f for f in frames), err
    assert "a trainer's message\n" in err
    assert "epoch 1/2  1.5s  g_loss 1.250  d_loss 0.500  D(x) 0.75  D(G(z)) 0.25\n" in err
    assert bar.bar is None  # closed: nothing left to draw over the next output


def test_quiet_progress_writes_only_the_epoch_lines(capsys):
    bar = cli.ProgressBar(quiet=True)
    bar(_window(1, 4, 65))
    bar.write("note")
    bar(_epoch(1))
    bar.close()
    assert capsys.readouterr().err == "note\nepoch 1/2  1.5s  g_loss 1.250  d_loss 0.500  D(x) 0.75  D(G(z)) 0.25\n"


# --- choices: what the parser offers is what the code behind it accepts ----------------------------------------------

# Where each option with choices ends up: the values that code accepts (a new option with choices goes here too).
REGISTRIES = {("train", "--precision"): config.PRECISIONS, ("train", "--strategy"): config.STRATEGIES,
              ("train", "--dataset"): config.DATASETS, ("evaluate", "--dataset"): config.DATASETS,
              ("translate", "--direction"): config.DIRECTIONS}


def options_with_choices() -> dict[tuple[str, str], argparse.Action]:
    """(command, --option) -> its argparse action, for every option of every subcommand that has choices."""
    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {(name, max(action.option_strings, key=len)): action for name, sub in subparsers.choices.items()
            for action in sub._actions if action.choices is not None and action.option_strings}


def test_every_option_offers_exactly_the_values_its_registry_accepts():
    options = options_with_choices()
    assert set(options) == set(REGISTRIES), "an option with choices is missing from REGISTRIES (or gone)"
    for key, action in options.items():
        assert set(action.choices) == set(REGISTRIES[key]), (key, action.choices, REGISTRIES[key])


@pytest.mark.parametrize("flag,value", [(flag, value) for (command, flag), action in options_with_choices().items()
                                        if command == "train" for value in action.choices])
def test_every_train_choice_makes_a_valid_config(flag, value):
    """As cmd_train does: the parsed value goes into the preset's config, which validates it."""
    argv = ["train", "--preset", "mnist_dcgan", flag, value, *(["--data", "/faces"] if value == "folder" else [])]
    args = cli.build_parser().parse_args(argv)
    dest = options_with_choices()[("train", flag)].dest
    cfg = config.from_preset(args.preset, {dest: getattr(args, dest), "data": args.data})
    assert getattr(cfg, dest) == value
