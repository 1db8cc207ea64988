"""The Train page through streamlit's AppTest: its form, the live view of a run, and what it refuses."""
import io
import socket
import zipfile

import pytest
from apptest_helpers import assert_clean, image_urls, labels, only_run, open_page, plain, texts

from gan_core import models, runs

pytestmark = pytest.mark.slow  # they share one real training run (tiny_run, about 20 s)


@pytest.fixture
def spawned(monkeypatch) -> list:
    """The runs the page asks to start, instead of starting their trainer processes."""
    from gan_core import launch

    started = []
    monkeypatch.setattr(launch, "spawn", lambda run, restart=False, lock_fd=None: started.append(run))
    return started


def field(at, kind: str, label: str):
    """The page's widget of this kind and label."""
    return next(w for w in at.get(kind) if w.label == label)


def test_train_page_has_the_form_and_streams_the_selected_run(runs_dir):
    at = open_page("train")
    assert {"Preset", "Run", "Precision"} <= set(labels(at.selectbox))
    (preset_box,) = [s for s in at.selectbox if s.label == "Preset"]
    assert preset_box.options == models.preset_names() and preset_box.value == "mnist_dcgan"
    assert {"Epochs", "Batch size", "G learning rate", "D learning rate", "Noise dimensions",
            "Snapshot grid every (epochs)", "Checkpoint every (epochs)", "Use only the first N images"} \
        <= set(labels(at.number_input))
    assert {"Data file or folder (optional)", "Run name"} <= set(labels(at.text_input))
    assert labels(at.radio) == ["Training images"]
    assert at.radio[0].options == ["MNIST", "Fashion-MNIST", "Image folder", "Zip of images"]
    assert {"Start training", "Train more"} <= set(labels(at.button))
    # the live view: state, progress, numbers, curves and the latest grid of the (only) run
    assert "00000-tiny" in texts(at) and "done" in texts(at)
    assert at.get("progress")[0].proto.text.startswith("epoch 2/2")
    assert len(at.get("plotly_chart")) == 1
    assert "after epoch 2" in texts(at) and image_urls(at)
    assert {"Images/s", "ETA", "G loss", "D loss"} <= set(labels(at.metric))


def test_train_refuses_a_second_start_while_a_run_is_training(runs_dir, pretend_training):
    busy = only_run(runs_dir)
    pretend_training(busy)
    at = open_page("train")
    assert "running" in texts(at) and "Stop" in labels(at.button)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("still training" in e.value for e in at.error)
    assert runs.list_runs(runs_dir) == [busy]  # nothing was created, no trainer was started

    next(b for b in at.button if b.label == "Stop").click().run()
    assert busy.stop_requested() and "Stop requested" in texts(at)


def test_train_refuses_to_resume_a_run_while_another_trains(runs_dir, tiny_run, copy_run, tmp_path,
                                                            pretend_training):
    stopped = runs.RunDir(copy_run(tiny_run, tmp_path).rename(runs_dir / "00001-stopped"))
    stopped.write_status(state="stopped")
    only_run_before = runs.list_runs(runs_dir)[0]
    pretend_training(only_run_before)
    at = open_page("train")
    at.selectbox(key="train_run").set_value(stopped).run()
    assert "stopped" in texts(at)
    next(b for b in at.button if b.label == "Resume").click().run()
    assert any("00000-tiny is still training" in e.value for e in at.error)
    assert stopped.state == "stopped"  # no trainer was spawned


def test_train_start_with_a_zip_without_images_says_why(runs_dir):
    at = open_page("train")
    at.radio[0].set_value("Zip of images").run()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes.txt", "no pictures here")
    at.get("file_uploader")[0].upload("notes.zip", archive.getvalue(), "application/zip")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    assert any("no image files" in e.value for e in at.error)
    assert len(runs.list_runs(runs_dir)) == 1


def test_train_failed_run_shows_the_error_and_the_log(runs_dir):
    run = only_run(runs_dir)
    run.write_status(state="failed", error="the generator produced NaN/Inf images at epoch 2")
    run.log_path.write_text("epoch 1/2  0.5s  g_loss 0.7\nTraceback: something went wrong here\n")
    at = open_page("train", errors_expected=True)
    assert any("NaN/Inf" in e.value for e in at.error)
    assert "something went wrong here" in texts(at)
    assert "Resume" in labels(at.button)


def test_a_run_whose_trainer_was_killed_shows_interrupted_with_resume(runs_dir):
    import subprocess
    import sys

    run = only_run(runs_dir)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.write_status(state="running", pid=dead.pid, host=socket.gethostname())
    at = open_page("train")
    assert "interrupted" in texts(at)
    assert "Resume" in labels(at.button) and "Stop" not in labels(at.button)


def test_train_form_follows_the_task_of_the_preset(translation_runs_dir):
    at = open_page("train")
    preset = next(s for s in at.selectbox if s.label == "Preset")
    preset.set_value("pix2pix_edges_digits").run()
    assert_clean(at)
    pairing = next(s for s in at.selectbox if s.label.startswith("Pairing"))
    assert pairing.value == "edges" and "Noise dimensions" not in labels(at.number_input)
    next(s for s in at.selectbox if s.label == "Preset").set_value("cyclegan_mnist_fashion").run()
    assert_clean(at)
    assert labels(at.radio)[:2] == ["Domain A images", "Domain B images"]
    assert next(r for r in at.radio if r.label == "Domain B images").value == "Fashion-MNIST"
    assert "Domain B data file or folder (optional)" in labels(at.text_input)
    run = next(s for s in at.selectbox if s.label == "Run")  # the live view of an image-to-image run
    run.set_value(next(o for o in run.options if "cyclegan" in str(o))).run()
    assert_clean(at)
    assert "held-out A → B → A | B → A → B after epoch 2" in texts(at)


def test_a_zip_member_name_in_an_error_is_shown_as_text(runs_dir):
    at = open_page("train")
    at.radio[0].set_value("Zip of images").run()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../[click](http://example.com)![i](http://example.com/p.png).png", b"x")
    at.get("file_uploader")[0].upload("![u](http://example.com/u.png).zip", archive.getvalue(), "application/zip")
    next(b for b in at.button if b.label == "Start training").click().run()
    (error,) = at.error
    assert "points outside the folder" in error.value
    assert "](" not in error.value.replace("\\](", "") and "![" not in error.value.replace("\\!\\[", "")
    assert len(runs.list_runs(runs_dir)) == 1


def test_resume_without_a_readable_checkpoint_is_refused_and_start_over_keeps_the_old_epochs(runs_dir, monkeypatch):
    from gan_core import launch

    run = only_run(runs_dir)  # a copy without checkpoints, as if they were deleted
    run.write_status(state="stopped")
    spawned = []
    monkeypatch.setattr(launch, "spawn", lambda run, restart=False, lock_fd=None: spawned.append(restart))
    at = open_page("train")
    next(b for b in at.button if b.label == "Resume").click().run()
    assert any("no readable checkpoint" in e.value and "Start over" in e.value for e in at.error)
    assert spawned == [] and run.generator_epochs() == [1, 2]
    next(b for b in at.button if b.label == "Start over from epoch 0").click().run()
    assert spawned == [True]  # the trainer is told to restart; it moves the old epochs aside itself


def test_train_device_strategy_and_xla_reach_the_new_runs_config(runs_dir, spawned):
    at = open_page("train")
    assert "TensorFlow sees: **CPU (" in plain(texts(at))
    train_on = next(s for s in at.selectbox if s.label == "Train on")
    assert train_on.options == ["auto (TensorFlow's first GPU, else the CPU)", "CPU only"]  # no GPU here
    train_on.set_value("cpu")
    next(s for s in at.selectbox if s.label == "Strategy (tf.distribute)").set_value("mirrored")
    xla = next(s for s in at.selectbox if s.label == "XLA (jit_compile)")
    assert "0.55x" in xla.help
    xla.set_value("on")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    (run,) = spawned
    cfg = run.config()
    assert (cfg.device, cfg.strategy, cfg.jit_compile) == ("cpu", "mirrored", "on")


def test_train_gan_options_from_the_notes_reach_the_new_runs_config(runs_dir, spawned):
    at = open_page("train")
    assert field(at, "selectbox", "Loss").value == "bce" and field(at, "number_input", "Adam β1").value == 0.9
    field(at, "selectbox", "Loss").set_value("lsgan")
    field(at, "number_input", "Real label (label smoothing)").set_value(0.9)
    field(at, "number_input", "Adam β1").set_value(0.5)
    field(at, "selectbox", "Noise distribution").set_value("uniform")
    field(at, "number_input", "D steps per G step").set_value(2)
    field(at, "selectbox", "Update order").set_value("alternating")
    field(at, "number_input", "Gradient clipping (global norm, 0 = off)").set_value(1.0)
    field(at, "number_input", "EMA of G (decay, 0 = off)").set_value(0.99)
    field(at, "multiselect", "DiffAugment (before D)").set_value(["translation", "cutout"])
    field(at, "number_input", "Snapshot grid (n x n)").set_value(6)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    (run,) = spawned
    cfg = run.config()
    assert (cfg.loss, cfg.real_label, cfg.beta_1, cfg.noise, cfg.d_steps, cfg.update, cfg.clip_norm, cfg.ema_decay,
            cfg.augment, cfg.grid) == ("lsgan", 0.9, 0.5, "uniform", 2, "alternating", 1.0, 0.99,
                                       "translation,cutout", 6)


def test_train_gan_options_show_for_latent_gans_only(translation_runs_dir):
    at = open_page("train")
    assert "Loss" in labels(at.selectbox)
    at.selectbox[0].set_value("pix2pix_edges_digits").run()
    assert "Loss" not in labels(at.selectbox) and "Train on" in labels(at.selectbox)


def test_train_live_view_raises_the_mode_collapse_alarm(runs_dir):
    run = only_run(runs_dir)
    run.log_metrics({"kind": "discriminator", "epoch": 2, "diversity": 0.2, "d_accuracy": 0.7})
    at = open_page("train")
    assert any("Mode collapse likely at epoch 2" in w.value and "what to try" in w.value for w in at.warning)


@pytest.mark.parametrize("preset", ["mnist_dcgan", "pix2pix_edges_digits", "cyclegan_mnist_fashion"])
def test_every_setting_of_the_runs_sections_has_a_widget(runs_dir, preset):
    # the form is derived from the config's sections: each field a user may set has one widget, labelled as declared,
    # starting at the preset's value; the data picker's fields sit above the form and FIXED ones are the preset's
    from gan_core import config, tasks

    at = open_page("train")
    next(s for s in at.selectbox if s.label == "Preset").set_value(preset).run()
    assert_clean(at)
    task = tasks.get(models.get(models.preset(preset).architecture).task)
    values = config.preset_config(preset).to_dict()
    shown = {w.label: w for kind in ("number_input", "selectbox", "multiselect", "checkbox", "text_input")
             for w in at.get(kind)}
    for section in (config.RUN, task.section):
        for setting in section.settings:
            if setting.group in (config.DATA, config.FIXED):
                continue
            assert setting.title in shown, f"{setting.name} has no widget"
            value = shown[setting.title].value
            if setting.many:
                value = ",".join(value)
            expected = values[setting.name]
            if setting.name == "name" or expected is None:
                assert value in ("", None)
            elif setting.allowed():  # a selectbox's value is the choice itself
                assert value == expected, setting.name
            else:
                assert value == pytest.approx(expected), setting.name
    other = {s.title for t in config.TASK_SECTIONS.values() if t is not task.section for s in t.settings
             if s.name not in task.section.names() and s.group not in (config.DATA, config.FIXED)}
    assert not other & set(shown), "another task's knobs are on this task's form"


def test_knobs_that_had_no_widget_reach_the_new_runs_config(runs_dir, spawned):
    # before: gp_weight, r1_gamma, r1_every, spectral_norm (and seed, beta_2, eval_n, ...) existed only for --set
    at = open_page("train")

    field(at, "selectbox", "Loss").set_value("wgan-gp")
    field(at, "number_input", "Gradient penalty weight (wgan-gp)").set_value(5.0)
    field(at, "number_input", "R1 gamma (0 = off)").set_value(0.1)
    field(at, "number_input", "R1 every (steps)").set_value(16)
    field(at, "checkbox", "Spectral norm on D").check()
    field(at, "number_input", "Random seed").set_value(7)
    field(at, "number_input", "Adam β2").set_value(0.99)
    field(at, "number_input", "Samples per quality evaluation").set_value(300)
    field(at, "number_input", "EMA starts at step").set_value(100)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    (run,) = spawned
    cfg = run.config()
    assert (cfg.loss, cfg.gp_weight, cfg.r1_gamma, cfg.r1_every, cfg.spectral_norm, cfg.seed, cfg.beta_2, cfg.eval_n,
            cfg.ema_start_step) == ("wgan-gp", 5.0, 0.1, 16, True, 7, 0.99, 300, 100)


def test_a_form_value_its_setting_refuses_is_one_message_and_no_run(runs_dir, spawned):
    at = open_page("train")
    next(w for w in at.number_input if w.label == "Real label (label smoothing)").set_value(0.9)
    next(w for w in at.selectbox if w.label == "Loss").set_value("hinge")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert [plain(e.value) for e in at.error] == ["real_label (label smoothing) means nothing to the hinge loss: set "
                                                  "real_label=1, or use loss bce or lsgan"]
    assert not spawned
