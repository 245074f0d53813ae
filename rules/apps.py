from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "rules"
    verbose_name = "Rules and lists"

    def ready(self) -> None:
        from .features import register_fields

        register_fields()  # the providers' fields join the rule language
