"""The rows an administrator starts from: visit frequencies per group, the
一日双巡 schedule and the assessment weights, all editable in the admin."""

from django.db import migrations

# tag, visit every n days, alert after n closed doors in a row (None: no alert)
VISIT_POLICIES = [
    ("elderly_alone", 7, 2),
    ("empty_nest", 14, 3),
    ("tekun", 14, 3),
    ("mental_disorder", 14, None),
    ("community_correction", 30, None),
    ("released_prisoner", 30, None),
    ("left_behind_child", 30, None),
    ("disabled", 30, None),
    ("dibao", 30, None),
    ("home_isolation", 1, 2),
]


def seed(apps, schema_editor):
    VisitPolicy = apps.get_model("workforce", "VisitPolicy")
    for tag, every, alert in VISIT_POLICIES:
        VisitPolicy.objects.get_or_create(tag=tag, defaults={"every_days": every, "closed_door_alert": alert})
    apps.get_model("workforce", "PatrolSchedule").objects.get_or_create(area_code="")
    apps.get_model("workforce", "AssessmentScheme").objects.get_or_create(area_code="")


class Migration(migrations.Migration):
    dependencies = [("workforce", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
