"""The pipeline run in this process through the real Dagster definitions, as the daemon runs it:
the catalogue and reference jobs, extract-and-transform in runs of DAYS_PER_RUN days, then one
load per day as the load sensor requests it. `woo-exact sync` (and so `demo`), the chaos tests'
pipeline process and the benchmarks all drive it from here.

It sits above defs/: it builds the definitions of the shop it is given, so nothing here reads
sync.yaml or the environment on import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.definitions import location_definitions
from woo_exact_pipeline.defs.exact.assets import bulk_load_run_config
from woo_exact_pipeline.defs.resources import AlertChannels, SyncDatabase
from woo_exact_pipeline.defs.runs import in_process_tags
from woo_exact_pipeline.defs.shops import DAYS_PER_RUN, Shop


@dataclass
class InProcessPipeline:
    definitions: dg.Definitions
    shop: Shop
    instance: dg.DagsterInstance
    #: Run config of every run (e.g. a quieter console log).
    run_config: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        settings: SyncConfig,
        instance: dg.DagsterInstance,
        run_config: Mapping[str, Any] | None = None,
    ) -> InProcessPipeline:
        """The pipeline of one shop, with the sync database of $WOO_EXACT_DATABASE_URL."""
        shop = Shop(settings)
        definitions = location_definitions([shop], SyncDatabase(), AlertChannels.from_environment())
        return cls(definitions, shop, instance, run_config or {})

    def execute(
        self,
        job: str,
        *,
        tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        run_config: Mapping[str, Any] | None = None,
    ) -> dg.ExecuteInProcessResult:
        """One run of the shop's `job` (unqualified name), failures returned, not raised;
        `run_config` adds to the pipeline's own."""
        return self.definitions.resolve_job_def(self.shop.qualified(job)).execute_in_process(
            run_config=dict(self.run_config) | dict(run_config or {}),
            instance=self.instance,
            tags=dict(tags or {}) | in_process_tags(),
            partition_key=partition_key,
            raise_on_error=False,
        )

    @staticmethod
    def ranges(days: Sequence[str]) -> list[list[str]]:
        """The days in runs of DAYS_PER_RUN, as the assets' backfill policy cuts them."""
        return [list(days[i : i + DAYS_PER_RUN]) for i in range(0, len(days), DAYS_PER_RUN)]

    def extract_and_transform(self, days: Sequence[str]) -> dg.ExecuteInProcessResult:
        """One extract-and-transform run over consecutive days (at most DAYS_PER_RUN)."""
        tags = {
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        }
        return self.execute("extract_and_transform_job", tags=tags)

    def journal_lines_cursor(self) -> str | None:
        """The load sensor's cursor as it stands now: the newest journal lines materialization."""
        newest = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=self.shop.asset_key("exact_journal_lines")),
            limit=1,
            ascending=False,
        ).records
        return str(newest[0].storage_id) if newest else None

    def load_requests(self, cursor: str | None) -> list[dg.RunRequest]:
        """Every load the load sensor requests from `cursor` on, one per day, in day order."""
        sensor = self.definitions.resolve_sensor_def(self.shop.qualified("exact_load_sensor"))
        requests: dict[str, dg.RunRequest] = {}
        while True:
            context = dg.build_sensor_context(
                instance=self.instance, cursor=cursor, definitions=self.definitions
            )
            tick = sensor.evaluate_tick(context)
            cursor = tick.cursor
            if not tick.run_requests:
                return [requests[day] for day in sorted(requests)]
            for request in tick.run_requests:
                assert request.partition_key is not None  # the load job is partitioned by day
                requests[request.partition_key] = request

    def load(self, request: dg.RunRequest, *, bulk: bool = False) -> dg.ExecuteInProcessResult:
        """One load run as the sensor requests it; `bulk` books it in XML uploads."""
        return self.execute(
            "exact_load_job",
            tags=request.tags,
            partition_key=request.partition_key,
            run_config=bulk_load_run_config(self.shop) if bulk else None,
        )

    def materializations(
        self, result: dg.ExecuteInProcessResult, asset: str
    ) -> list[dg.AssetMaterialization]:
        """What a run recorded for the shop's `asset`."""
        node = self.shop.asset_key(asset).to_python_identifier()
        return result.asset_materializations_for_node(node)


def failure_reason(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's reason, as the shop owner should read it."""
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return str(data.user_failure_data.description)
        if data.error is not None:
            return data.error.message.strip()
    return "the run failed (see its logs in the Dagster UI)"
