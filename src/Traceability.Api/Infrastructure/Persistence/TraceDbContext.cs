using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
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
    public DbSet<MemberKey> MemberKeys => Set<MemberKey>();
    public DbSet<Product> Products => Set<Product>();
    public DbSet<Location> Locations => Set<Location>();
    public DbSet<TraceEvent> Events => Set<TraceEvent>();
    public DbSet<EventEpc> EventEpcs => Set<EventEpc>();
    public DbSet<Anchor> Anchors => Set<Anchor>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<Unit> Units => Set<Unit>();
    public DbSet<AuditRun> AuditRuns => Set<AuditRun>();
    public DbSet<AuditFinding> AuditFindings => Set<AuditFinding>();

    /// <summary>
    /// How every context of the service reaches its database, in one place: the provider, and on SQLite the pooled
    /// connection with the per-connection settings (<see cref="SqliteConnectionSettings"/>). The service builds these
    /// options once; the benchmarks and tests that build a context by hand call it too.
    /// </summary>
    public static TBuilder Configure<TBuilder>(TBuilder db, string sqlitePathOrPostgresConnection, bool postgres) where TBuilder : DbContextOptionsBuilder
    {
        if (postgres) db.UseNpgsql(sqlitePathOrPostgresConnection);
        else db.UseSqlite($"Data Source={sqlitePathOrPostgresConnection};Pooling=True;Default Timeout=30");
        db.AddInterceptors(SqliteConnectionSettings.Instance);
        return db;
    }

    /// <summary>A context built by hand (benchmarks, tests) on a SQLite file, or on PostgreSQL.</summary>
    public static TraceDbContext Open(string sqlitePathOrPostgresConnection, bool postgres = false) =>
        new(Configure(new DbContextOptionsBuilder<TraceDbContext>(), sqlitePathOrPostgresConnection, postgres).Options);

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
            e.Property(x => x.Role).HasConversion(r => r.ToWire(), s => Enum.Parse<MemberRole>(s, true));
            e.Property(x => x.RegionCodes).HasConversion(CommaList.Converter, CommaList.Comparer);
            e.Property(x => x.CompanyPrefixes).HasConversion(CommaList.Converter, CommaList.Comparer);
        });
        b.Entity<MemberKey>(e =>
        {
            e.ToTable("member_keys");
            e.HasKey(x => x.Id);
        });
        b.Entity<Product>(e =>
        {
            e.ToTable("products");
            e.HasKey(x => x.Gtin);
        });
        b.Entity<Location>(e =>
        {
            e.ToTable("locations");
            e.HasKey(x => x.Id);
        });
        b.Entity<TraceEvent>(e =>
        {
            e.ToTable("events");
            e.HasKey(x => x.Sequence);
            e.Property(x => x.Sequence).ValueGeneratedNever();
        });
        b.Entity<EventEpc>(e =>
        {
            e.ToTable("event_epcs");
            e.HasKey(x => new { x.Epc, x.Sequence, x.Role });
        });
        b.Entity<Anchor>(e =>
        {
            e.ToTable("anchors");
            e.HasKey(x => x.Sequence);
            e.Ignore(x => x.Count);
            e.Property(x => x.Sequence).ValueGeneratedNever();
            e.Property(x => x.Status).HasConversion(s => s.ToString().ToLowerInvariant(), s => Enum.Parse<AnchorStatus>(s, true));
        });
        b.Entity<Alert>(e =>
        {
            e.ToTable("alerts");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
        });
        b.Entity<AuditRun>(e =>
        {
            e.ToTable("audit_runs");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Trigger).HasColumnName("trigger_source");
        });
        b.Entity<AuditFinding>(e =>
        {
            e.ToTable("audit_findings");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
        });
        b.Entity<Unit>(e =>
        {
            e.ToTable("units");
            e.HasKey(x => x.Epc);
        });

        // Columns are named by convention: a property's name in snake_case (KeyHash -> key_hash); a column
        // named otherwise says so above with HasColumnName.
        foreach (var entity in b.Model.GetEntityTypes())
            foreach (var property in entity.GetProperties())
                if (property.FindAnnotation(RelationalAnnotationNames.ColumnName) is null)
                    property.SetColumnName(SnakeCase(property.Name));
    }

    /// <summary>PascalCase to snake_case: an underscore before each capital but the first, all in lower case.</summary>
    public static string SnakeCase(string name)
    {
        var text = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsAsciiLetterUpper(name[i])) text.Append('_');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }
}

/// <summary>A list of codes (region codes, company prefixes) kept in one text column, comma-separated.</summary>
internal static class CommaList
{
    public static readonly ValueConverter<List<string>, string> Converter = new(
        v => string.Join(',', v),
        s => s.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList());

    public static readonly Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<List<string>> Comparer = new(
        (a, c) => a!.SequenceEqual(c!), v => v.Aggregate(0, (h, s) => HashCode.Combine(h, s)), v => v.ToList());
}

/// <summary>The one text format of times in the database: <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>, UTC.</summary>
public static class DbTime
{
    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string s) =>
        DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

internal sealed class DbTimeConverter() : ValueConverter<DateTimeOffset, string>(t => DbTime.Format(t), s => DbTime.Parse(s));
