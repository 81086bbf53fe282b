import csv

from matplotlib.image import imread

from loadtest.report import plot, seconds, write_csv, write_png
from loadtest.revisions import Share


def history_row(second, p50, rps, users):
    stamp = f"2026-11-26T11:00:{second:02d}Z"
    row = {
        f"response_time_percentile_{p}": [stamp, p50 * f]
        for p, f in [(0.5, 1), (0.95, 3), (0.99, 5)]
    }
    return row | {
        "current_rps": [stamp, rps],
        "current_fail_per_sec": [stamp, 0],
        "user_count": [stamp, users],
        "time": stamp,
    }


def test_plots_latency_throughput_the_revision_split_and_pods(tmp_path):
    start = seconds("2026-11-26T11:00:00Z")
    history = [
        history_row(second, 8 + second, 40 + second, min(10, second)) for second in range(20)
    ]
    shares = [
        Share(start, 10, "house-price-v1", 90, 0, 0.9, pods=2),
        Share(start, 10, "house-price-v2", 10, 0, 0.1, pods=1),
        Share(start + 10, 10, "house-price-v1", 50, 1, 0.5, pods=3),
        Share(start + 10, 10, "house-price-v2", 50, 0, 0.5, pods=1),
        Share(start + 30, 10, "house-price-v2", 5, 0, 1.0, pods=1),  # nothing answered at 20-30 s
    ]
    latency, throughput, split, pods, users = plot(history, shares).axes

    p50, p95, p99 = latency.get_lines()
    assert [line.get_label() for line in (p50, p95, p99)] == ["p50", "p95", "p99"]
    assert list(p99.get_xdata()) == list(range(20))
    assert list(p99.get_ydata())[:3] == [40, 45, 50]
    assert list(throughput.get_lines()[0].get_ydata())[-1] == 59
    assert max(users.get_lines()[0].get_ydata()) == 10
    bars = [(bar.get_x(), bar.get_width(), bar.get_y(), bar.get_height()) for bar in split.patches]
    assert bars == [
        (0, 10, 0, 90), (10, 10, 0, 50), (0, 10, 90, 10), (10, 10, 50, 50), (30, 10, 0, 100)
    ]  # fmt: skip
    blue, green = pods.get_lines()
    assert list(blue.get_xdata()) == [0, 10, 20, 30, 40]
    assert list(blue.get_ydata()) == [2, 3, 0, 0, 0]  # scaled to zero: no pod answered
    assert list(green.get_ydata()) == [1, 1, 0, 1, 1]

    path = tmp_path / "run_report.png"
    write_png(history, shares, path)
    assert imread(path).shape == (1200, 1000, 4)


def test_the_pods_panel_says_how_to_name_pods_when_none_are_named():
    shares = [Share(0.0, 5, "house-price-v1", 10, 0, 1.0)]
    pods = plot([], shares).axes[3]
    assert pods.get_lines() == []
    assert "EXPOSE_POD_NAME=1" in pods.texts[0].get_text()


def test_writes_the_split_and_pods_as_csv(tmp_path):
    shares = [Share(1000.0, 2, "blue", 1, 0, 0.5, pods=1), Share(1000.0, 2, "green", 1, 1, 0.5)]
    write_csv(shares, tmp_path / "run_revisions.csv")
    with open(tmp_path / "run_revisions.csv") as file:
        assert list(csv.reader(file)) == [
            ["Timestamp", "Seconds", "Revision", "Requests", "Failures", "Share", "Pods"],
            ["1000.000", "2", "blue", "1", "0", "0.5000", "1"],
            ["1000.000", "2", "green", "1", "1", "0.5000", "0"],
        ]


def test_plots_a_run_without_any_answer(tmp_path):
    write_png([history_row(0, 0, 0, 1)], [], tmp_path / "run_report.png")
    assert (tmp_path / "run_report.png").stat().st_size > 0


def test_plots_an_empty_run(tmp_path):
    write_png([], [], tmp_path / "run_report.png")
    assert imread(tmp_path / "run_report.png").shape == (1200, 1000, 4)
