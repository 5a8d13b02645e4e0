using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace TokenAdmin.Settings;

/// <summary>One stored system setting. Secret settings hold ciphertext from the secrets service.</summary>
public sealed class Setting
{
    public required string Name { get; set; }
    public required string Value { get; set; }
    public DateTime ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
}

internal sealed class SettingConfiguration : IEntityTypeConfiguration<Setting>
{
    public void Configure(EntityTypeBuilder<Setting> builder)
    {
        builder.HasKey(s => s.Name);
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.Property(s => s.ChangedBy).HasMaxLength(200);
    }
}
