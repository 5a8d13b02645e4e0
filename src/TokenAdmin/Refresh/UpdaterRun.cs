using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Refresh;

/// <summary>
/// The summary of one token store updater run, as the Scheduler page shows it. Only the last
/// <see cref="UpdaterRunLog.Kept"/> are kept. Names and reasons are in <see cref="Details"/> (JSON); never a token.
/// </summary>
public sealed class UpdaterRun
{
    public long Id { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime FinishedAt { get; set; }
    /// <summary>What started the run: "schedule", "Run now (alice)", "console".</summary>
    public string TriggeredBy { get; set; } = "";
    public int Refreshed { get; set; }
    public int Failed { get; set; }
    public int Skipped { get; set; }
    /// <summary>True when the run was stopped (shutdown) before it finished; the counts are what it did until then.</summary>
    public bool Cancelled { get; set; }
    public string Details { get; set; } = "{}";
}

internal sealed class UpdaterRunConfiguration : IEntityTypeConfiguration<UpdaterRun>
{
    public void Configure(EntityTypeBuilder<UpdaterRun> builder)
    {
        builder.ToTable("UpdaterRuns");
        builder.Property(r => r.TriggeredBy).HasMaxLength(200);
    }
}
