"""Generate panel: labels that say what each button does, seed lock, model folders, devices."""
import json

import pytest
from PySide6.QtCore import QSettings, Qt

from desktop.panels.generate_panel import OPS, GeneratePanel


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def panel(qtbot, settings):
    p = GeneratePanel(settings=settings)
    qtbot.addWidget(p)
    p.prompt.setPlainText("a red ball moving left over a field at sunset, static camera")
    return p


def enabled_ops(panel):
    return {op for op in OPS if panel.buttons[op].isEnabled()}


def test_gap_selection_says_generate_into_gap(panel):
    panel.set_selection("gap", "1.5 s gap on V1")
    assert panel.buttons["generate"].text() == "Generate into 1.5 s gap on V1"
    assert panel.buttons["fill"].text() == "Fill 1.5 s gap on V1 from its neighbours"
    assert enabled_ops(panel) == {"generate", "fill"}
    # Only what applies is shown; the hint line says how to reach the rest.
    assert {op for op in OPS if not panel.buttons[op].isHidden()} == {"generate", "fill"}
    assert panel.selection_label.text().startswith("Selection: 1.5 s gap on V1.")
    assert "a clip to extend" in panel.selection_label.toolTip()


def test_nothing_selected_generates_at_the_playhead(panel):
    panel.set_selection("none", "the playhead on V1")
    assert panel.buttons["generate"].text() == "Generate 2.0 s at the playhead on V1"
    assert panel.selection_label.text().startswith("Nothing selected: Generate makes a new clip at the playhead on V1.")


def test_each_selection_kind_enables_what_applies(panel):
    expected = {
        "none": {"generate"},
        "gap": {"generate", "fill"},
        "clip": {"extend_head", "extend_tail", "restyle"},
        "generated_clip": {"extend_head", "extend_tail", "restyle"},
        "still": {"animate", "restyle"},
        "range": {"generate", "restyle"},
    }
    for kind, ops in expected.items():
        panel.set_selection(kind, f"the {kind}")
        assert enabled_ops(panel) == ops, kind
        for op in ops:
            assert f"the {kind}" in panel.buttons[op].toolTip() or kind == "none", (kind, op)


def test_clip_labels_name_the_clip_and_duration(panel):
    panel.seconds.setValue(3.5)
    panel.set_selection("clip", "clip “shot 1” on V2")
    panel.prompt.setPlainText("dusk")
    # The pair shares a row under the selection line, which names the clip; each tooltip says it all.
    assert panel.selection_label.text().startswith("Selection: clip “shot 1” on V2.")
    assert panel.buttons["extend_tail"].text() == "Extend tail by 3.5 s"
    assert panel.buttons["extend_head"].text() == "Extend head by 3.5 s"
    assert panel.buttons["extend_head"].toolTip() == "Extend head of clip “shot 1” on V2 by 3.5 s"
    assert panel.buttons["restyle"].text() == "Restyle clip “shot 1” on V2"
    panel.seconds.setValue(1.0)  # the labels follow the duration field
    assert panel.buttons["extend_tail"].text().endswith("by 1.0 s")
    assert panel.buttons["extend_tail"].toolTip().endswith("on V2 by 1.0 s")


def test_unknown_selection_kind_is_refused(panel):
    with pytest.raises(ValueError, match="kind"):
        panel.set_selection("marker", "")


def test_prompt_needed_for_generate_but_not_for_fill(panel):
    panel.prompt.setPlainText("   ")
    panel.set_selection("gap", "gap on V1")
    assert not panel.buttons["generate"].isEnabled() and not panel.buttons["generate"].isHidden()
    assert panel.buttons["generate"].toolTip() == "Write a prompt first"
    assert "Write a prompt to generate." in panel.selection_label.text()
    assert panel.buttons["fill"].isEnabled()


def test_click_emits_the_op(panel, qtbot):
    panel.set_selection("clip", "clip “a” on V1")
    with qtbot.waitSignal(panel.action_requested) as blocker:
        qtbot.mouseClick(panel.buttons["extend_tail"], Qt.LeftButton)
    assert blocker.args == ["extend_tail"]
    got = []
    panel.action_requested.connect(got.append)
    qtbot.mouseClick(panel.buttons["animate"], Qt.LeftButton)  # disabled for a clip
    assert got == []


def test_params_locked_seed_repeats_unlocked_seed_changes(panel):
    panel.seed_lock.setChecked(True)
    panel.seed.setValue(1234)
    panel.negative_prompt.setPlainText("blurry")
    panel.steps.setValue(7)
    panel.guidance.setValue(4.5)
    panel.strength.setValue(0.55)
    panel.structure.setValue(0.4)
    panel.seconds.setValue(2.5)
    first = panel.params()
    assert first == {
        "prompt": "a red ball moving left over a field at sunset, static camera",
        "negative_prompt": "blurry", "seed": 1234, "seed_locked": True, "steps": 7, "guidance": 4.5,
        "strength": 0.55, "structure_weight": 0.4, "seconds": 2.5, "model": None, "device": "cpu",
    }
    assert panel.params()["seed"] == 1234
    json.dumps(first)  # it goes into a recipe

    panel.seed_lock.setChecked(False)
    seeds = {panel.params()["seed"] for _ in range(5)}
    assert len(seeds) > 1
    # The seed shown is the one the last generation used, so the user can lock it afterwards.
    last = panel.params()["seed"]
    assert panel.seed.value() == last


def test_set_params_fills_fields_from_a_recipe(panel):
    panel.set_params({"prompt": "night city", "seed": 9, "steps": 12, "guidance": 2.0, "seconds": 4.0, "other": 1,
                      "structure_weight": 0.3})
    assert panel.prompt.toPlainText() == "night city"
    assert (panel.seed.value(), panel.steps.value(), panel.guidance.value(), panel.seconds.value()) == (9, 12, 2.0, 4.0)
    assert panel.structure.value() == 0.3


def test_model_folder_must_hold_a_config(panel, tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    assert not panel.models.add_folder(empty)
    assert not panel.models.message.isHidden()
    assert str(empty) in panel.models.message.text()
    assert "config.json" in panel.models.message.text() and "model_index.json" in panel.models.message.text()
    assert panel.models.combo.count() == 1 and panel.params()["model"] is None

    assert not panel.models.add_folder(tmp_path / "missing")
    assert "is not a folder" in panel.models.message.text()


def test_model_folders_are_remembered(qtbot, panel, settings, tmp_path):
    ldm = tmp_path / "my-ldm"
    ldm.mkdir()
    (ldm / "config.json").write_text("{}")
    wan = tmp_path / "wan"
    wan.mkdir()
    (wan / "model_index.json").write_text("{}")
    assert panel.models.add_folder(ldm)
    assert panel.models.add_folder(wan)
    assert panel.models.add_folder(ldm)  # adding twice keeps one entry
    assert panel.models.message.isHidden()
    assert panel.params()["model"] == str(ldm.resolve())
    assert panel.models.combo.count() == 3
    settings.sync()

    again = GeneratePanel(settings=settings)
    qtbot.addWidget(again)
    assert [again.models.combo.itemData(i) for i in range(again.models.combo.count())] == [None, str(ldm.resolve()), str(wan.resolve())]
    assert again.models.combo.currentData() == str(ldm.resolve())  # the last choice is selected again

    again.models.combo.setCurrentIndex(again.models.combo.findData(str(wan.resolve())))
    qtbot.mouseClick(again.models.remove_button, Qt.LeftButton)
    assert again.models.combo.count() == 2 and wan.is_dir()  # forgotten, not deleted
    again.models.combo.setCurrentIndex(0)
    assert not again.models.remove_button.isEnabled()  # the embedded model stays


def test_remembered_folder_that_vanished_is_flagged(qtbot, settings, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    (gone / "config.json").write_text("{}")
    first = GeneratePanel(settings=settings)
    qtbot.addWidget(first)
    first.models.add_folder(gone)
    (gone / "config.json").unlink()
    gone.rmdir()
    second = GeneratePanel(settings=settings)
    qtbot.addWidget(second)
    assert not second.models.message.isHidden()
    assert "not a folder" in second.models.message.text()


def test_device_list_has_cpu_and_only_available_accelerators(qtbot, panel):
    import torch

    assert panel.device.itemData(0) == "cpu"
    with qtbot.waitSignal(panel.devices_found, timeout=60000):
        panel.show()  # the first show starts the background probe
    devices = [panel.device.itemData(i) for i in range(panel.device.count())]
    assert devices[0] == "cpu"
    assert ("cuda" in devices) == torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None)
    assert ("mps" in devices) == bool(mps is not None and mps.is_available())


def test_the_app_and_latentcut_models_share_one_list_of_model_folders(qtbot, settings, tmp_path):
    from engine.backends import model_folders, registry

    ldm = tmp_path / "my-ldm"
    ldm.mkdir()
    (ldm / "config.json").write_text("{}")
    first = GeneratePanel(settings=settings)
    qtbot.addWidget(first)
    assert first.models.add_folder(ldm)
    assert ldm.resolve() in registry.known_model_folders()  # what `latentcut models` lists
    wan = tmp_path / "wan"
    wan.mkdir()
    (wan / "model_index.json").write_text("{}")
    model_folders.remember(wan)  # as loading a diffusers model does
    second = GeneratePanel(settings=settings)
    qtbot.addWidget(second)
    assert second.models.combo.findData(str(wan.resolve())) > 0 and second.models.combo.findData(str(ldm.resolve())) > 0
    second.models.remove_folder(str(ldm.resolve()))
    assert model_folders.remembered() == [wan.resolve()]


def test_steps_and_guidance_come_from_the_chosen_model_unless_the_user_set_them(qtbot, panel, tiny_model):
    from engine.backends.registry import default_settings

    embedded = default_settings(None)
    assert (panel.steps.value(), panel.guidance.value()) == (embedded["steps"], embedded["guidance"]) == (10, 4.0)
    assert panel.models.add_folder(tiny_model)
    assert (panel.steps.value(), panel.guidance.value()) == (3, 3.0)  # the tiny model's own
    panel.steps.setValue(7)  # the user's choice stays; guidance still follows the model
    panel.models.combo.setCurrentIndex(0)
    assert (panel.steps.value(), panel.guidance.value()) == (7, 4.0)


def test_advanced_settings_fold_away_and_stay_as_left(qtbot, settings):
    first = GeneratePanel(settings=settings)
    qtbot.addWidget(first)
    first.show()
    assert not first.advanced_toggle.isChecked()
    for hidden in (first.negative_prompt, first.steps, first.guidance, first.models, first.device):
        assert not hidden.isVisible()
    for shown in (first.prompt, first.seed, first.seconds, first.strength, first.advanced_toggle):
        assert shown.isVisible()
    qtbot.mouseClick(first.advanced_toggle, Qt.LeftButton)
    assert first.steps.isVisible() and first.models.isVisible()
    settings.sync()
    second = GeneratePanel(settings=settings)
    qtbot.addWidget(second)
    second.show()
    assert second.advanced_toggle.isChecked() and second.device.isVisible()


def test_the_embedded_model_shows_the_words_it_knows_and_marks_the_others(qtbot, panel, tiny_model):
    from PySide6.QtGui import QTextCharFormat

    def underlined():
        block = panel.prompt.document().firstBlock()
        return {block.text()[f.start:f.start + f.length] for f in block.layout().formats()
                if f.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline}

    panel.show()
    panel.prompt.setPlainText("a purple ball over the sea at sunset, zoom in")
    assert panel.vocabulary.isVisible() and "day/sunset/night" in panel.vocabulary.text()
    assert "zoom in/out" in panel.vocabulary.text() and "mountains/sea/city/field" in panel.vocabulary.text()
    assert panel.unknown_words.isVisible() and panel.unknown_words.text() == "Not understood: purple"
    assert underlined() == {"purple"}
    panel.prompt.setPlainText("a red ball over the sea at sunset")
    assert panel.unknown_words.isHidden() and underlined() == set()
    panel.prompt.setPlainText("at night")  # a look alone: the previz model misread it
    assert panel.unknown_words.isVisible() and "'a field at night'" in panel.unknown_words.text()
    panel.prompt.setPlainText("a purple dragon at night")
    assert panel.unknown_words.text() == "Not understood: purple, dragon · Name a setting or subject too, as in " \
        "'a field at night'"
    panel.prompt.setPlainText("a purple ball")
    assert panel.models.add_folder(tiny_model)  # another model: no previz vocabulary to show
    assert panel.vocabulary.isHidden() and panel.unknown_words.isHidden() and underlined() == set()
