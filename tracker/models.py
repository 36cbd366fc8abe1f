from django.db import models, transaction
from django.db.models import F


class KeySequence(models.Model):
    """Counters behind human keys (INC-1042, REQ-77, DEV-311, CR-12).

    The increment is one UPDATE, so concurrent creators never receive the same number.
    """

    name = models.CharField(max_length=20, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}: {self.last_value}"


def next_number(name: str) -> int:
    with transaction.atomic():
        KeySequence.objects.get_or_create(name=name)
        KeySequence.objects.filter(name=name).update(last_value=F("last_value") + 1)
        return KeySequence.objects.values_list("last_value", flat=True).get(name=name)
