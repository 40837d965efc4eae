"""Peak memory and CPU time of a running job container.

Read from the container's cgroup files when this worker can see them (same
machine: ~microseconds a read), else from one-shot engine stats. Sampled
while the container runs, since its cgroup vanishes when it exits. Cgroup
reads are cheap enough for the job's own watch loop to make them (`tick`):
a thread per job costs more to start than a short job's reads. A one-shot
stats call takes ~1 s, so API mode samples in a thread of its own.
"""

from __future__ import annotations

from pathlib import Path

from dockfleet.errors import FleetError
from worker.engine import stats as engine_stats
from worker.engine.client import EngineClient
from worker.process.periodic import Periodic

CGROUP_ROOT = Path("/sys/fs/cgroup")
API_INTERVAL = 2.0


def cgroup_files(container_id: str) -> tuple[Path, Path] | None:
    """(peak memory file, CPU usage file) of a container, for cgroup v1 or v2, if visible."""
    v1 = (
        CGROUP_ROOT / "memory" / "docker" / container_id / "memory.max_usage_in_bytes",
        CGROUP_ROOT / "cpuacct" / "docker" / container_id / "cpuacct.usage",
    )
    v2_dir = CGROUP_ROOT / "system.slice" / f"docker-{container_id}.scope"
    v2 = (v2_dir / "memory.peak", v2_dir / "cpu.stat")
    for candidate in (v1, v2):
        if candidate[0].exists() and candidate[1].exists():
            return candidate
    return None


class ResourceMeter:
    """Samples a container until stopped (on `tick`, or in a thread in API mode); keeps the
    maxima."""

    def __init__(self, client: EngineClient, container_id: str) -> None:
        self.client = client
        self.container_id = container_id
        self.peak_memory = 0
        self.cpu_seconds = 0.0
        self._files = cgroup_files(container_id)
        self._sampler = Periodic("job-meter", API_INTERVAL, self._sample_quietly, immediately=True)

    def start(self) -> ResourceMeter:
        if self._files is None:
            self._sampler.start()
        return self

    def tick(self) -> None:
        """Sample now when that is a file read (the job's watch loop calls it each turn)."""
        if self._files is not None:
            self._sample_quietly()

    def stop(self) -> None:
        self._sampler.stop()

    def _sample_quietly(self) -> None:
        try:
            self.sample()
        except (OSError, ValueError, FleetError):
            pass  # the container may just have exited: keep what we have

    def sample(self) -> None:
        if self._files:
            memory_file, cpu_file = self._files
            memory = int(memory_file.read_text().strip())
            cpu = _cpu_seconds(cpu_file)
        else:
            usage = engine_stats.usage(self.client, self.container_id)
            memory, cpu = usage.peak_memory, usage.cpu_seconds
        self.peak_memory = max(self.peak_memory, memory)
        self.cpu_seconds = max(self.cpu_seconds, cpu)


def _cpu_seconds(path: Path) -> float:
    text = path.read_text()
    if path.name == "cpu.stat":  # v2: "usage_usec N" in microseconds
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == "usage_usec":
                return int(value) / 1e6
        return 0.0
    return int(text.strip()) / 1e9  # v1 cpuacct.usage: nanoseconds
