from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0002_mail_log'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='outboundmail',
            index=models.Index(condition=models.Q(('state', 'failed')), fields=['created_at'], name='outbound_failed'),
        ),
    ]
