"""lungsound.score against hand-computed cases."""

import math

import pytest

import lungsound


def close(a, b):
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


def test_task_1_2_with_a_missing_and_an_unknown_prediction():
    y_true = ["Normal", "Normal", "Normal", "Wheeze", "Wheeze", "Fine Crackle", "Stridor"]
    y_pred = ["Normal", "Rhonchi", None, "Wheeze", "Fine Crackle", "Fine Crackle", "bogus"]
    s = lungsound.score("1-2", y_true, y_pred)
    # Normal: 1 of 3 right (the None counts wrong). Abnormal: Wheeze and Fine Crackle right,
    # Wheeze->Fine Crackle wrong (exact class needed), Stridor->'bogus' wrong.
    se, sp = 2 / 4, 1 / 3
    assert close(s["SE"], se) and close(s["SP"], sp)
    assert close(s["AS"], (se + sp) / 2)
    assert close(s["HS"], 2 * se * sp / (se + sp))  # 0.4
    assert close(s["Score"], ((se + sp) / 2 + 0.4) / 2)
    assert close(s["ICBHI"], (se + sp) / 2)
    assert s["n"] == 7 and s["n_unscored"] == 2
    assert s["classes"][0] == "Normal"
    assert sum(map(sum, s["confusion"])) == 5
    assert s["confusion"][2][5] == 1  # one Wheeze predicted Fine Crackle


def test_task_1_1_accepts_indices_dataset_labels_and_any_case():
    s = lungsound.score("1-1", ["Normal", "Wheeze", "Crackle", "Normal"], [0, "Adventitious", "adventitious", 1])
    assert close(s["SE"], 1.0) and close(s["SP"], 0.5)
    assert close(s["AS"], 0.75)
    assert close(s["HS"], 2 * 0.5 / 1.5)
    assert close(s["Score"], (0.75 + 2 / 3) / 2)


def test_task_2_1_folds_record_labels():
    s = lungsound.score("2-1", ["Poor Quality", "CAS", "Normal"], ["Poor Quality", "DAS", "Normal"])
    assert s["Score"] == 1.0 and s["n_unscored"] == 0


def test_out_of_range_index_and_nan_predictions_are_wrong():
    s = lungsound.score("2-2", ["Normal", "CAS"], [7, float("nan")])
    assert s["SE"] == 0.0 and s["SP"] == 0.0 and s["Score"] == 0.0
    assert s["n_unscored"] == 2


def test_no_abnormal_samples_gives_zero_sensitivity():
    s = lungsound.score("1-1", ["Normal", "Normal"], ["Normal", "Normal"])
    assert s["SP"] == 1.0 and s["SE"] == 0.0 and s["HS"] == 0.0 and s["Score"] == 0.25


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="y_true\\[1\\]"):
        lungsound.score("1-1", ["Normal", "Squeak"], ["Normal", "Normal"])
    with pytest.raises(ValueError, match="2 labels"):
        lungsound.score("1-1", ["Normal", "Normal"], ["Normal"])
    with pytest.raises(ValueError, match="unknown task"):
        lungsound.score("9-9", [], [])


def test_numpy_and_pandas_inputs():
    np = pytest.importorskip("numpy")
    s = lungsound.score("1-2", np.array([0, 2, 5]), np.array([0, 2, 4]))
    assert close(s["SE"], 0.5) and close(s["SP"], 1.0)
    pd = pytest.importorskip("pandas")
    s2 = lungsound.score("1-2", pd.Series(["Normal", "Wheeze", "Fine Crackle"]), pd.Series([0, "Wheeze", None]))
    assert close(s2["SE"], 0.5) and s2["n_unscored"] == 1
