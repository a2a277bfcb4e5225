from django.db import migrations

LAYERS = [
    ("base", "基础网格", 0),
    ("police", "警务网格", 10),
    ("fire", "消防网格", 20),
    ("traffic", "交通网格", 30),
    ("urban", "城管网格", 40),
]


def add_layers(apps, schema_editor):
    Layer = apps.get_model("areas", "Layer")
    for code, name, sort in LAYERS:
        Layer.objects.get_or_create(code=code, defaults={"name": name, "sort": sort})


class Migration(migrations.Migration):
    dependencies = [("areas", "0001_initial")]
    operations = [migrations.RunPython(add_layers, migrations.RunPython.noop)]
