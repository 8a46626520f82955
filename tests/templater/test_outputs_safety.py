"""Output safety: --overwrite replaces only templater's own folders; temporary siblings of a
killed run are removed by the next run, a live run's never; SIGTERM cleans up like Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from templater import __version__
from templater.cli import main
from templater.jobs.outputs import (
    MARKER,
    _host_tag,
    atomic_output,
    is_templater_folder,
    remove_stale_siblings,
)

SMALL = ["eggbox", "--H", "25", "--S", "150", "--size", "300", "--no-predict",
         "--format", "stl"]


def run(args, cwd=None):
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args)
    finally:
        os.chdir(old)


def temp_siblings(folder, name):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


def test_every_job_folder_has_the_marker_and_nothing_else_changes(tmp_path):
    res = run(["make", *SMALL, "-o", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    marker = json.loads((tmp_path / "a" / MARKER).read_text())
    assert marker["toolkit"] == "templater" and marker["version"] == __version__
    assert is_templater_folder(tmp_path / "a")
    # the marker is not among the files reported, and not mentioned by them
    assert MARKER not in res.output
    assert MARKER not in (tmp_path / "a" / "design.json").read_text()


def test_overwrite_refuses_a_foreign_folder(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "notes.txt").write_text("my measurements")
    for extra in ([], ["--overwrite"]):
        res = run(["make", *SMALL, "-o", str(out), *extra])
        assert res.exit_code == 2, res.output
        assert "Error:" in res.output and "not written by templater" in res.output
        assert "Traceback" not in res.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "my measurements"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_overwrite_replaces_a_templater_folder(tmp_path):
    out = tmp_path / "job"
    assert run(["make", *SMALL, "-o", str(out)]).exit_code == 0
    res = run(["make", *SMALL, "--H", "20", "-o", str(out), "--overwrite"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "design.json").read_text())["design"]["H_um"] == 20.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job"]


@pytest.mark.parametrize("target", [".", ".."])
def test_overwrite_never_replaces_the_current_directory(tmp_path, target):
    job = tmp_path / "job"
    assert run(["make", *SMALL, "-o", str(job)]).exit_code == 0  # a templater folder
    before = sorted(p.name for p in job.iterdir())
    res = run(["make", *SMALL, "-o", target, "--overwrite"], cwd=job)
    assert res.exit_code == 2, res.output
    assert "current directory" in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in job.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job"]


@pytest.mark.skipif(not os.path.ismount("/proc"), reason="needs the /proc mount point")
def test_overwrite_never_replaces_a_mount_point():
    res = run(["make", *SMALL, "-o", "/proc", "--overwrite"])
    assert res.exit_code == 2, res.output
    assert "mount point" in res.output and "Traceback" not in res.output


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_overwrite_never_replaces_a_symbolic_link(tmp_path):
    job = tmp_path / "job"
    assert run(["make", *SMALL, "-o", str(job)]).exit_code == 0
    (tmp_path / "link").symlink_to(job)
    res = run(["make", *SMALL, "-o", str(tmp_path / "link"), "--overwrite"])
    assert res.exit_code == 2 and "symbolic link" in res.output
    assert (tmp_path / "link").is_symlink() and is_templater_folder(job)


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.skipif(os.name != "posix", reason="POSIX process ids")
def test_stale_temp_siblings_are_removed_live_ones_kept(tmp_path):
    host = _host_tag()
    dead = tmp_path / f".job.tmp-{_dead_pid()}-{host}-abc123"
    old = tmp_path / f".job.old-{_dead_pid()}-{host}-abc124"
    live = tmp_path / f".job.tmp-{os.getppid()}-{host}-abc125"  # the parent process lives
    elsewhere = tmp_path / f".job.tmp-{_dead_pid()}-otherhost{host}-abc126"
    other_job = tmp_path / f".jobs.tmp-{_dead_pid()}-{host}-abc127"
    for folder in (dead, old, live, elsewhere, other_job):
        folder.mkdir()
        (folder / "part.stl").write_bytes(b"x" * 100)
    res = run(["make", *SMALL, "-o", str(tmp_path / "job")])
    assert res.exit_code == 0, res.output
    assert not dead.exists() and not old.exists()
    assert live.exists() and elsewhere.exists() and other_job.exists()
    assert remove_stale_siblings(tmp_path / "job") == []


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "job", overwrite=False) as tmp:
            (tmp / "a").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def _start_make(cwd):
    cmd = [sys.executable, "-m", "templater.cli", "make", "eggbox", "--H", "25", "--S", "150",
           "--size", "1500", "--no-predict", "--format", "stl", "-o", "job"]  # a 13 MB STL
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if temp_siblings(cwd, "job"):
            return proc
        time.sleep(0.002)
    proc.kill()
    proc.communicate()
    pytest.skip("the run ended before its temporary folder was seen")


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigterm_mid_write_removes_the_temporary_folder(tmp_path):
    proc = _start_make(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert b"Traceback" not in err
    assert temp_siblings(tmp_path, "job") == []
    assert not (tmp_path / "job").exists()
    res = run(["make", *SMALL, "-o", "job"], cwd=tmp_path)  # the next run
    assert res.exit_code == 0, res.output
    assert temp_siblings(tmp_path, "job") == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigkill_leftovers_are_removed_by_the_next_run(tmp_path):
    proc = _start_make(tmp_path)
    proc.kill()
    proc.communicate()
    assert temp_siblings(tmp_path, "job")  # SIGKILL cannot be handled
    res = run(["make", *SMALL, "-o", "job"], cwd=tmp_path)
    assert res.exit_code == 0, res.output
    assert temp_siblings(tmp_path, "job") == []
    assert is_templater_folder(tmp_path / "job")
