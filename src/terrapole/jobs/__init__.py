"""On-demand jobs: the state machine, the job store and credits, processes, the Dask runner."""

from terrapole.jobs.process import Parameter, Process, Result
from terrapole.jobs.runner import JobRunner
from terrapole.jobs.states import State
from terrapole.jobs.store import CreditExceeded, Job, JobStore

__all__ = [
    "CreditExceeded",
    "Job",
    "JobRunner",
    "JobStore",
    "Parameter",
    "Process",
    "Result",
    "State",
]
