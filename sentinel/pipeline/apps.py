from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "sentinel.pipeline"
    label = "pipeline"
    verbose_name = "Scoring pipeline"

    def ready(self) -> None:
        # The queue schedules its drain by the task's registered name (queue.DRAIN_TASK), so
        # every process that accepts transactions, the web ones included, registers it.
        from . import tasks  # noqa: F401
