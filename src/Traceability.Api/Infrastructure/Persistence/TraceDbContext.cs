using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Traceability.Api.Domain;

namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// The database. The schema comes from the versioned SQL scripts in Migrations/ (one set per provider),
/// applied by <see cref="SchemaMigrator"/>; this context only maps it.
/// </summary>
public sealed class TraceDbContext(DbContextOptions<TraceDbContext> options) : DbContext(options)
{
    public DbSet<Member> Members => Set<Member>();
    public DbSet<Product> Products => Set<Product>();
    public DbSet<Location> Locations => Set<Location>();
    public DbSet<TraceEvent> Events => Set<TraceEvent>();
    public DbSet<EventEpc> EventEpcs => Set<EventEpc>();
    public DbSet<Anchor> Anchors => Set<Anchor>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<Unit> Units => Set<Unit>();
    public DbSet<AuditRun> AuditRuns => Set<AuditRun>();
    public DbSet<AuditFinding> AuditFindings => Set<AuditFinding>();

    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder) =>
        optionsBuilder.AddInterceptors(SqliteConnectionSettings.Instance);

    protected override void ConfigureConventions(ModelConfigurationBuilder builder)
    {
        // Times are stored as ISO 8601 UTC text with milliseconds in both providers: sortable, readable, one format.
        builder.Properties<DateTimeOffset>().HaveConversion<DbTimeConverter>();
        builder.Properties<DateTimeOffset?>().HaveConversion<DbTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Member>(e =>
        {
            e.ToTable("members");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id");
            e.Property(x => x.Name).HasColumnName("name");
            e.Property(x => x.Role).HasColumnName("role").HasConversion(r => r.ToWire(), s => Enum.Parse<MemberRole>(s, true));
            e.Property(x => x.Gln).HasColumnName("gln");
            e.Property(x => x.RegionCodes).HasColumnName("region_codes").HasConversion(
                v => string.Join(',', v),
                s => s.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<List<string>>(
                    (a, c) => a!.SequenceEqual(c!), v => v.Aggregate(0, (h, s) => HashCode.Combine(h, s)), v => v.ToList()));
            e.Property(x => x.CompanyPrefixes).HasColumnName("company_prefixes").HasConversion(
                v => string.Join(',', v),
                s => s.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<List<string>>(
                    (a, c) => a!.SequenceEqual(c!), v => v.Aggregate(0, (h, s) => HashCode.Combine(h, s)), v => v.ToList()));
            e.Property(x => x.Address).HasColumnName("address");
            e.Property(x => x.ApiKeyHash).HasColumnName("api_key_hash");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
        });
        b.Entity<Product>(e =>
        {
            e.ToTable("products");
            e.HasKey(x => x.Gtin);
            e.Property(x => x.Gtin).HasColumnName("gtin");
            e.Property(x => x.Name).HasColumnName("name");
            e.Property(x => x.Description).HasColumnName("description");
            e.Property(x => x.AttributesJson).HasColumnName("attributes_json");
            e.Property(x => x.OwnerMemberId).HasColumnName("owner_member_id");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
        });
        b.Entity<Location>(e =>
        {
            e.ToTable("locations");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id");
            e.Property(x => x.Name).HasColumnName("name");
            e.Property(x => x.RegionCode).HasColumnName("region_code");
            e.Property(x => x.MemberId).HasColumnName("member_id");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
        });
        b.Entity<TraceEvent>(e =>
        {
            e.ToTable("events");
            e.HasKey(x => x.Sequence);
            e.Property(x => x.Sequence).HasColumnName("sequence").ValueGeneratedNever();
            e.Property(x => x.EventHash).HasColumnName("event_hash");
            e.Property(x => x.EventId).HasColumnName("event_id");
            e.Property(x => x.EventType).HasColumnName("event_type");
            e.Property(x => x.EventTime).HasColumnName("event_time");
            e.Property(x => x.RecordTime).HasColumnName("record_time");
            e.Property(x => x.BizStep).HasColumnName("biz_step");
            e.Property(x => x.Disposition).HasColumnName("disposition");
            e.Property(x => x.ReadPoint).HasColumnName("read_point");
            e.Property(x => x.BizLocation).HasColumnName("biz_location");
            e.Property(x => x.SubmitterId).HasColumnName("submitter_id");
            e.Property(x => x.Json).HasColumnName("json");
        });
        b.Entity<EventEpc>(e =>
        {
            e.ToTable("event_epcs");
            e.HasKey(x => new { x.Epc, x.Sequence, x.Role });
            e.Property(x => x.Epc).HasColumnName("epc");
            e.Property(x => x.Sequence).HasColumnName("sequence");
            e.Property(x => x.Role).HasColumnName("role");
        });
        b.Entity<Anchor>(e =>
        {
            e.ToTable("anchors");
            e.HasKey(x => x.Sequence);
            e.Ignore(x => x.Count);
            e.Property(x => x.Sequence).HasColumnName("sequence").ValueGeneratedNever();
            e.Property(x => x.Root).HasColumnName("root");
            e.Property(x => x.FirstEventSequence).HasColumnName("first_event_sequence");
            e.Property(x => x.LastEventSequence).HasColumnName("last_event_sequence");
            e.Property(x => x.Status).HasColumnName("status").HasConversion(s => s.ToString().ToLowerInvariant(), s => Enum.Parse<AnchorStatus>(s, true));
            e.Property(x => x.TxHash).HasColumnName("tx_hash");
            e.Property(x => x.BlockNumber).HasColumnName("block_number");
            e.Property(x => x.ChainId).HasColumnName("chain_id");
            e.Property(x => x.Contract).HasColumnName("contract");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
            e.Property(x => x.SubmittedAt).HasColumnName("submitted_at");
            e.Property(x => x.ConfirmedAt).HasColumnName("confirmed_at");
            e.Property(x => x.Attempts).HasColumnName("attempts");
            e.Property(x => x.LastError).HasColumnName("last_error");
        });
        b.Entity<Alert>(e =>
        {
            e.ToTable("alerts");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id").ValueGeneratedOnAdd();
            e.Property(x => x.Type).HasColumnName("type");
            e.Property(x => x.Epc).HasColumnName("epc");
            e.Property(x => x.Gtin).HasColumnName("gtin");
            e.Property(x => x.Lot).HasColumnName("lot");
            e.Property(x => x.At).HasColumnName("at");
            e.Property(x => x.Detail).HasColumnName("detail");
            e.Property(x => x.DedupeKey).HasColumnName("dedupe_key");
        });
        b.Entity<AuditRun>(e =>
        {
            e.ToTable("audit_runs");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id").ValueGeneratedOnAdd();
            e.Property(x => x.StartedAt).HasColumnName("started_at");
            e.Property(x => x.FinishedAt).HasColumnName("finished_at");
            e.Property(x => x.Status).HasColumnName("status");
            e.Property(x => x.Trigger).HasColumnName("trigger_source");
            e.Property(x => x.Anchors).HasColumnName("anchors");
            e.Property(x => x.AnchorsOnChain).HasColumnName("anchors_on_chain");
            e.Property(x => x.Events).HasColumnName("events");
            e.Property(x => x.EventsChecked).HasColumnName("events_checked");
            e.Property(x => x.Mismatches).HasColumnName("mismatches");
            e.Property(x => x.Summary).HasColumnName("summary");
        });
        b.Entity<AuditFinding>(e =>
        {
            e.ToTable("audit_findings");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id").ValueGeneratedOnAdd();
            e.Property(x => x.RunId).HasColumnName("run_id");
            e.Property(x => x.AnchorSequence).HasColumnName("anchor_sequence");
            e.Property(x => x.EventSequence).HasColumnName("event_sequence");
            e.Property(x => x.Kind).HasColumnName("kind");
            e.Property(x => x.Detail).HasColumnName("detail");
            e.Property(x => x.FirstEventSequence).HasColumnName("first_event_sequence");
            e.Property(x => x.LastEventSequence).HasColumnName("last_event_sequence");
        });
        b.Entity<Unit>(e =>
        {
            e.ToTable("units");
            e.HasKey(x => x.Epc);
            e.Property(x => x.Epc).HasColumnName("epc");
            e.Property(x => x.Gtin).HasColumnName("gtin");
            e.Property(x => x.Lot).HasColumnName("lot");
            e.Property(x => x.Serial).HasColumnName("serial");
            e.Property(x => x.Status).HasColumnName("status");
            e.Property(x => x.StatusBeforeHold).HasColumnName("status_before_hold");
            e.Property(x => x.HolderMemberId).HasColumnName("holder_member_id");
            e.Property(x => x.LocationId).HasColumnName("location_id");
            e.Property(x => x.RegionCode).HasColumnName("region_code");
            e.Property(x => x.ParentEpc).HasColumnName("parent_epc");
            e.Property(x => x.ShippedToMemberId).HasColumnName("shipped_to_member_id");
            e.Property(x => x.CommissionedSequence).HasColumnName("commissioned_sequence");
            e.Property(x => x.LastEventSequence).HasColumnName("last_event_sequence");
            e.Property(x => x.UpdatedAt).HasColumnName("updated_at");
        });
    }
}

/// <summary>The one text format of times in the database: <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>, UTC.</summary>
public static class DbTime
{
    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string s) =>
        DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

internal sealed class DbTimeConverter() : ValueConverter<DateTimeOffset, string>(t => DbTime.Format(t), s => DbTime.Parse(s));
