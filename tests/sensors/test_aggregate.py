"""Aggregation of observations: the action, the REST endpoint and the STA ``$apply`` subset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from bylab.auth.actor import Actor
from bylab.core import Bylab
from bylab.errors import InvalidInput, NotFound
from bylab.sensors.actions import observation_store
from bylab.sensors.aggregate import bucket_query, datastream_aggregate

STA = "/sta/v1.1"
# Small data on a shared machine (as tests/indicators/test_spark.py): one partition, no
# adaptive planning or code generation, a JIT that warms up fast.
SMALL_SPARK_CONF = {"spark.sql.shuffle.partitions": "1", "spark.sql.adaptive.enabled": "false",
                    "spark.sql.codegen.wholeStage": "false",
                    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
DAILY = ("compute(year(phenomenonTime) as year, month(phenomenonTime) as month, "
         "day(phenomenonTime) as day)/groupby((year, month, day), aggregate("
         "result with average as mean, result with min as low, result with max as high, "
         "$count as n))")


def test_daily_monthly_and_yearly_buckets(bylab: Bylab, stations: dict[str, int]) -> None:
    ctx = bylab.system_context()
    stream = stations["Valand/pm25"]  # results 0..47, hourly from 2021-03-01 00:00 UTC
    daily = datastream_aggregate(ctx, stream, "day")
    assert [(b.start, b.mean, b.min, b.max, b.count) for b in daily] == [
        (datetime(2021, 3, 1, tzinfo=UTC), 11.5, 0.0, 23.0, 24),
        (datetime(2021, 3, 2, tzinfo=UTC), 35.5, 24.0, 47.0, 24)]
    yearly = datastream_aggregate(ctx, stream, "year")
    assert [(b.start.year, b.mean, b.count) for b in yearly] == [(2021, 23.5, 48)]
    window = datastream_aggregate(ctx, stream, "month", datetime(2021, 3, 1, 10, tzinfo=UTC),
                                  datetime(2021, 3, 1, 20, tzinfo=UTC))
    assert [(b.min, b.max, b.count) for b in window] == [(10.0, 19.0, 10)]
    oslo = timezone(timedelta(hours=1))  # 2021-03-02 00:00 in Oslo is 03-01 23:00 UTC
    late = datastream_aggregate(ctx, stream, "day", datetime(2021, 3, 2, 0, 0, tzinfo=oslo),
                                datetime(2021, 3, 2, 1, 30, tzinfo=oslo))
    assert [(b.start.day, b.min, b.count) for b in late] == [(1, 23.0, 1), (2, 24.0, 1)]
    with pytest.raises(InvalidInput) as error:
        datastream_aggregate(ctx, stream, "week")
    assert error.value.field == "interval"
    with pytest.raises(NotFound):
        datastream_aggregate(bylab.context(Actor.anonymous()), stations["Hidden/pm25"], "day")


def test_aggregate_endpoint_and_visibility(client: httpx.Client, stations: dict[str, int],
                                           accounts_setup: dict[str, str]) -> None:
    stream = stations["Valand/pm25"]
    url = f"/api/sensors/datastreams/{stream}/aggregate"
    daily = client.get(url, params={"interval": "day", "from": "2021-03-02T00:00:00Z"}).json()
    assert daily == [{"start": "2021-03-02T00:00:00Z", "mean": 35.5, "min": 24.0,
                      "max": 47.0, "count": 24}]
    assert client.get(url, params={"interval": "week"}).status_code == 422
    hidden = f"/api/sensors/datastreams/{stations['Hidden/pm25']}/aggregate"
    assert client.get(hidden).status_code == 404
    mia = {"Authorization": f"Bearer {accounts_setup['mia']}"}  # editor of Molde
    answer = client.get(hidden, params={"interval": "year"}, headers=mia).json()
    assert [(row["mean"], row["count"]) for row in answer] == [(4.5, 10)]


def test_sta_apply_daily_means_with_filter_and_paging(client: httpx.Client,
                                                      stations: dict[str, int]) -> None:
    stream = stations["Valand/pm25"]
    url = f"{STA}/Datastreams({stream})/Observations"
    answer = client.get(url, params={"$apply": DAILY, "$count": "true"}).json()
    assert answer["@iot.count"] == 2
    assert answer["value"] == [
        {"year": 2021, "month": 3, "day": 1, "mean": 11.5, "low": 0.0, "high": 23.0, "n": 24},
        {"year": 2021, "month": 3, "day": 2, "mean": 35.5, "low": 24.0, "high": 47.0, "n": 24}]
    filtered = client.get(url, params={
        "$apply": "filter(result ge 40)/aggregate(result with sum as total, $count as n)",
        "$filter": "phenomenonTime lt 2021-03-02T23:00:00Z"}).json()
    assert filtered["value"] == [{"total": 40.0 + 41 + 42 + 43 + 44 + 45 + 46, "n": 7}]
    paged = client.get(url, params={"$apply": DAILY, "$top": "1"}).json()
    assert [row["day"] for row in paged["value"]] == [1]
    following = client.get(paged["@iot.nextLink"]).json()
    assert [row["day"] for row in following["value"]] == [2]
    assert "@iot.nextLink" not in following
    per_stream = client.get(f"{STA}/Observations", params={
        "$apply": "groupby((Datastream/id), aggregate($count as n))"}).json()["value"]
    assert per_stream == [{"Datastream_id": stations["Valand/pm25"], "n": 48},
                          {"Datastream_id": stations["Valand/temperature"], "n": 48}]


REFUSED = [  # ($apply, what the error names)
    ("topcount(2, result)", "topcount"),
    ("aggregate(result with median as m)", "median"),
    ("aggregate(name with max as m)", "name with max"),
    ("groupby((colour), aggregate($count as n))", "colour"),
    ("compute(minute(phenomenonTime) as m)/groupby((m))", "minute"),
    ("aggregate($count as n)/filter(result gt 1)", "last"),
    ("aggregate($count)", "as <name>"),
]


def test_sta_apply_refuses_what_it_does_not_offer(client: httpx.Client,
                                                  stations: dict[str, int]) -> None:
    for apply, named in REFUSED:
        answer = client.get(f"{STA}/Observations", params={"$apply": apply})
        assert answer.status_code == 400, apply
        assert named in answer.text and "$apply" in answer.text, answer.text


def test_sta_apply_only_on_observation_collections(client: httpx.Client,
                                                   stations: dict[str, int]) -> None:
    apply = {"$apply": "aggregate($count as n)"}
    assert client.get(f"{STA}/Things", params=apply).status_code == 400
    assert client.get(f"{STA}/Things(1)", params=apply).status_code == 400
    hidden = stations["Hidden/pm25"]
    assert client.get(f"{STA}/Datastreams({hidden})/Observations",
                      params=apply).status_code == 404
    everything = client.get(f"{STA}/Observations", params=apply).json()
    assert everything["value"] == [{"n": 96}]  # the private station's ten are not counted


@pytest.mark.xdist_group("spark")  # one Spark session per worker: keep them together
def test_the_bucket_query_gives_the_same_buckets_on_spark(bylab: Bylab,
                                                          stations: dict[str, int]) -> None:
    """The aggregate action's SQL text runs unchanged on Spark SQL over the store's files
    (as bench/sensor_aggregate.py times it)."""
    pytest.importorskip("pyspark")
    from bylab.indicators.spark import spark_session

    ctx = bylab.system_context()
    stream = stations["Valand/pm25"]
    spark = spark_session("local[1]", tuple(SMALL_SPARK_CONF.items()))
    spark.read.parquet(*observation_store(ctx).files()).createOrReplaceTempView("observations")
    for interval in ("day", "year"):
        on_spark = spark.sql(bucket_query(interval, "observations",
                                          f"datastream_id = {stream}")).collect()
        assert [(start.astimezone(UTC), mean, low, high, count)
                for start, mean, low, high, count in on_spark] == [
            (bucket.start, bucket.mean, bucket.min, bucket.max, bucket.count)
            for bucket in datastream_aggregate(ctx, stream, interval)]
    with pytest.raises(InvalidInput) as error:
        bucket_query("week", "observations", "true")
    assert error.value.field == "interval"
