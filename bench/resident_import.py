"""智能导人 at scale: a 100,000-row resident file checked (dry run) and imported, in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/resident_import.py [--rows N] [--profile]

Creates and drops its own database (`bench_resident_import`). Writes one community (10 grids × 8
micro-grids), one house per 2.5 residents and a community worker (not timed), then generates a
CSV of N residents with valid, distinct ID numbers, phones, doorplates, relations, registration
types and move-in dates. Times, each as the worker runs it (`import_job_run`, the same code as the
Celery task):
- the dry run: read, clean every row, match against the records, plan, store the report;
- the import: the dry run again (the file is checked against the records as they are) and one
  transaction writing every resident (encrypted ID number and phone, blind indexes, level columns,
  one history row each, living-alone and derived tags);
- the same file again, dry run and import (idempotency: nothing may be written);
- baseline: the bare minimum of the same work — parse the CSV with the csv module and COPY the same
  rows (plain values, no checks, no encryption, no history) into a table shaped like the residents'.
Goals: dry run < 60 s, import < 60 s, the second run creates and updates nothing. Prints the
ratios to the baseline, the process's CPU time against the wall clock (the machine is shared) and
the load average at start and end. Exits 1 on a missed goal.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Goals, bench_database, database_label, load_line

SECONDS_TARGET = 60.0
RESIDENTS_PER_HOUSE = 2.5
HEADER = ["姓名", "公民身份号码", "性别", "联系电话", "门牌编码", "与户主关系", "户籍类型", "迁入日期"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国秀英玉兰志强海燕丽娟明华桂芳淑珍德明文静晓东春梅红霞立新"
RELATIONS = ["户主", "配偶", "子女", "父母", "孙子女", "租户"]


def id_number(rng: random.Random, serial: int) -> str:
    from governance.identity import id_check_character

    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 90 * 365))
    first17 = f"370203{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_character(first17)


def seed(rows: int):
    """One community with houses and a worker; returns (community, worker, doorplates)."""
    from django.utils import timezone

    from governance.models import Role, StaffPost
    from grids.models import Area, AreaLevel
    from residents.models import House
    from residents.services import district_tags_ensure

    district_tags_ensure()
    district = Area.objects.create(code="B", name="市北区", level=AreaLevel.DISTRICT, path="B/")
    street = Area.objects.create(code="BS", name="台东街道", level=AreaLevel.STREET, parent=district, path="B/BS/")
    community = Area.objects.create(
        code="BSC", name="嘉定山社区", level=AreaLevel.COMMUNITY, parent=street, path="B/BS/BSC/"
    )
    microgrids = []
    for g in range(10):
        grid = Area.objects.create(
            code=f"BSCG{g}",
            name=f"第{g + 1}网格",
            level=AreaLevel.GRID,
            parent=community,
            path=f"{community.path}BSCG{g}/",
        )
        for m in range(8):
            microgrids.append(
                Area.objects.create(
                    code=f"BSCG{g}M{m}",
                    name=f"第{g + 1}网格{m + 1}微网格",
                    level=AreaLevel.MICROGRID,
                    parent=grid,
                    path=f"{grid.path}BSCG{g}M{m}/",
                )
            )
    houses = []
    now = timezone.now()
    for number in range(int(rows / RESIDENTS_PER_HOUSE) + 1):
        microgrid = microgrids[number % len(microgrids)]
        address = f"嘉定山路{number // 60 + 1}号{number % 6 + 1}单元{(number // 6) % 10 + 1}0{number % 2 + 1}户{number}"
        houses.append(
            House(
                address=address,
                address_key=address,
                doorplate_code=f"JDS-{number:06d}",
                microgrid=microgrid,
                grid_id=microgrid.parent_id,
                community=community,
                street=street,
                area_path=microgrid.path,
            )
        )
    House.objects.bulk_create(houses, batch_size=5000)
    from django.contrib.auth import get_user_model

    worker = get_user_model().objects.create_user(username="bench_worker", password="x" * 20)
    StaffPost.objects.create(user=worker, role=Role.COMMUNITY_WORKER, area=community)
    del now
    return community, worker, [house.doorplate_code for house in houses]


def resident_csv(rows: int, doorplates: list[str], *, seed_value: int = 7) -> bytes:
    rng = random.Random(seed_value)
    seen: set[str] = set()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    serial = 0
    for index in range(rows):
        while True:
            serial += 1
            number = id_number(rng, serial)
            if number not in seen:
                seen.add(number)
                break
        male = int(number[16]) % 2 == 1
        writer.writerow(
            [
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                number,
                "男" if male else "女",
                f"139{index:08d}",
                doorplates[int(index / RESIDENTS_PER_HOUSE)],
                rng.choice(RELATIONS),
                "户籍" if rng.random() < 0.8 else "流动",
                f"{rng.randrange(1980, 2025)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def timed(label: str, work, profile: bool = False):
    cpu0, wall0 = time.process_time(), time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    result = work()
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(f"{label:<34} {wall:7.2f} s wall  {cpu:7.2f} s cpu of this process  ({cpu / wall:4.0%} of a core)")
    return result, wall


def baseline(content: bytes) -> int:
    """Parse the CSV and COPY the same rows (plain values) into a table shaped like the residents'."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_baseline (LIKE residents_resident INCLUDING DEFAULTS INCLUDING IDENTITY) ON COMMIT DROP"
        )
        reader = csv.reader(io.StringIO(content.decode("utf-8")))
        next(reader)
        columns = "name, id_number, gender, phone, relation, registration, moved_in_on, house_id, microgrid_id, area_path, status, living_alone, notes, id_number_hash, phone_hash, created_at, updated_at"
        written = 0
        with cursor.cursor.copy(f"COPY bench_baseline ({columns}) FROM STDIN") as copy:
            for row in reader:
                copy.write_row(
                    [
                        row[0],
                        row[1],
                        row[2],
                        row[3],
                        row[5],
                        row[6],
                        row[7],
                        0,
                        0,
                        "",
                        "active",
                        False,
                        "",
                        "",
                        "",
                        "now",
                        "now",
                    ]
                )
                written += 1
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", choices=["dry", "import"], help="cProfile the dry run or the import")
    args = parser.parse_args()
    print(f"load:     {load_line()}")
    cleanup = bench_database(require_postgres=True, name="bench_resident_import")
    try:
        return run(args)
    finally:
        cleanup(True)


def run(args) -> int:
    from residents.imports import jobs
    from residents.models import RecordChange, Resident

    goals = Goals()
    print(f"database: {database_label()}")
    t0 = time.perf_counter()
    community, worker, doorplates = seed(args.rows)
    content = resident_csv(args.rows, doorplates)
    print(
        f"seed:     {len(doorplates):,} houses, a CSV of {args.rows:,} residents ({len(content) / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s (not timed)"
    )

    def upload(name: str):
        job = jobs.import_job_create(
            actor=worker, kind="resident", community=community, file_name=name, content=content
        )
        jobs.import_job_map(actor=worker, job=job, mapping=job.mapping)
        return job

    def run_job(job):
        jobs.import_job_run(job_id=job.pk)
        job.refresh_from_db()
        return job

    _, base = timed("baseline: csv + COPY of the rows", lambda: baseline(content))
    job = upload("居民花名册.csv")
    job, dry = timed("dry run (check, report)", lambda: run_job(job), args.profile == "dry")
    print(f"          {job.summary['create']:,} to create, {job.summary['problem_rows']} rows with problems")
    goals.check(
        f"dry run of {args.rows:,} rows < {SECONDS_TARGET:.0f} s",
        dry < SECONDS_TARGET and job.summary["create"] == args.rows,
        f"{dry:.1f} s",
    )
    jobs.import_job_start(actor=worker, job=job)
    job, real = timed("import (check + write, one transaction)", lambda: run_job(job), args.profile == "import")
    written = Resident.objects.filter(community=community).count()
    history = RecordChange.objects.filter(record_type="resident").count()
    print(f"          status {job.status}; {written:,} residents and {history:,} history rows in the database")
    goals.check(
        f"import of {args.rows:,} rows < {SECONDS_TARGET:.0f} s",
        real < SECONDS_TARGET and written == args.rows,
        f"{real:.1f} s",
    )
    again = upload("居民花名册(再次).csv")
    again, dry2 = timed("same file again: dry run", lambda: run_job(again))
    if again.summary["problem_rows"]:
        from residents.models import ImportRow

        print(
            "          problems:",
            again.summary["problems"],
            list(ImportRow.objects.filter(job=again, action="problem").values_list("row", "detail")[:3]),
        )
    jobs.import_job_start(actor=worker, job=again)
    again, real2 = timed("same file again: import", lambda: run_job(again))
    unchanged = (
        again.summary["written"],
        Resident.objects.count(),
        RecordChange.objects.filter(record_type="resident").count(),
    )
    goals.check(
        "the same file twice changes nothing",
        unchanged == ({"created": 0, "updated": 0}, written, history) and again.summary["unchanged"] == args.rows,
        f"written {again.summary['written']}, unchanged {again.summary['unchanged']:,}",
    )
    print(
        f"ratio:    dry run {dry / base:.1f}× baseline, import {real / base:.1f}× baseline (baseline {base:.2f} s); second run {dry2:.1f} s + {real2:.1f} s"
    )
    print(f"rows/s:   dry run {args.rows / dry:,.0f}, import {args.rows / real:,.0f}, baseline {args.rows / base:,.0f}")
    return goals.exit_code()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    sys.exit(main())
