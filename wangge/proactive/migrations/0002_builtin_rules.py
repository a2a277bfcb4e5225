"""The built-in rules, so the rules page lists them before their first run.
Parameters stay empty: the defaults live in wangge/proactive/rules.py."""

from django.db import migrations

RULES = [
    ('elderly_card', '年满60周岁未办老年人优待证', '出生日期取自身份证号（无有效身份证号时取登记的出生日期），在提醒窗口内年满规定年龄、且没有老年人优待证记录的人员，提醒网格员告知本人申请办理。', 1440),
    ('tenancy_ending', '租约到期重新登记承租人', '租约即将到期或已到期、且该房屋没有登记新的租约的出租房屋，提醒网格员核实承租人是否续租或更换并重新登记。已登记为空置或自住的房屋不再提醒。', 1440),
    ('visit_overdue', '特殊人群走访超期', '户内有走访频次表所列人群（标签在有效期内）的户，超过走访周期没有走访记录（从未走访也算）时提醒走访；一户有多类人员时按周期最短的一类计算。', 60),
    ('vacant_new_resident', '空置房屋新登记居住人员', '登记为空置的房屋，其地址（或其下级地址）上有近期首次登记的人员时，提醒网格员核实房屋用途和居住情况。首次登记时间取该人员最早一条来源记录的采集时间。', 1440),
    ('water_zero', '有人居住的房屋长期零用水', '非空置、且有登记居住人员的房屋，连续多期抄表用水量为零、覆盖天数达到规定时，提醒网格员上门探望（独居老人等可能发生意外）。', 60),
    ('water_spike', '用水量异常波动', '最近一期日均用水量偏离该户自身历史日均用水量超过规定倍数的标准差时，提醒网格员上门核查（漏水、居住人数变化、群租等）。用水降为零的情形由“长期零用水”规则判断。', 60),
]


def create(apps, schema_editor):
    Rule = apps.get_model("proactive", "Rule")
    for code, name, description, every in RULES:
        Rule.objects.get_or_create(code=code, defaults={"name": name, "description": description,
                                                         "every_minutes": every, "params": {}})


class Migration(migrations.Migration):
    dependencies = [("proactive", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
