using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.Mail;
using TokenAdmin.Refresh;
using TokenAdmin.Settings;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;
using TokenAdmin.WebServices;

namespace TokenAdmin.Tests.Settings;

public sealed class SettingCatalogTests
{
    [Fact]
    public async Task Host_CatalogHoldsEachCapabilitysGroup_InRegistrationOrder()
    {
        await using var app = new TokenAdminFactory();
        var catalog = app.Services.GetRequiredService<SettingCatalog>();

        Assert.Equal(
            [PublicUrlSettings.GroupName, AdminOidcSettings.GroupName, TokenAdmin.Providers.ProxySettings.GroupName, CredentialSettings.GroupName, RefreshSettings.GroupName, MailSettings.MailGroupName, MailSettings.SmtpGroupName, DebuggerSettings.GroupName],
            catalog.Groups.Select(g => g.Name));
        Assert.Equal(catalog.Groups.Sum(g => g.Definitions.Count), catalog.All.Count);
        Assert.Same(RefreshSettings.Group[RefreshSettings.Schedule], catalog.Find("tokenstoreupdater.schedule"));
        Assert.All(catalog.All, d => Assert.Null(d.Kind == SettingKind.Secret ? null : d.Check(d.DefaultValue)));
    }

    [Fact]
    public void AddSettingGroup_Twice_RegistersItOnce()
    {
        var services = new ServiceCollection();
        services.AddSettingGroup(RefreshSettings.Group).AddSettingGroup(RefreshSettings.Group);

        Assert.Single(services, d => d.ServiceType == typeof(SettingGroup));
    }

    [Fact]
    public void Catalog_RefusesOneNameInTwoGroups()
    {
        var first = new SettingGroup("A", [new SettingDefinition("X.Name", "A", "Name", "", "")]);
        var second = new SettingGroup("B", [new SettingDefinition("x.name", "B", "Name", "", "")]);

        var error = Assert.Throws<InvalidOperationException>(() => new SettingCatalog([first, second]));
        Assert.Contains("x.name is registered twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_RefusesDefinitionFiledUnderAnotherGroup()
    {
        var group = new SettingGroup("A", [new SettingDefinition("X.Name", "B", "Name", "", "")]);

        Assert.Throws<InvalidOperationException>(() => new SettingCatalog([group]));
    }

    [Fact]
    public void CombinationRules_OfEveryGroupRun()
    {
        var catalog = new SettingCatalog([AdminOidcSettings.Group, MailSettings.SmtpGroup]);
        var values = new Dictionary<string, string>
        {
            [AdminOidcSettings.Enabled] = "true",
            [MailSettings.SmtpHost] = "smtp.example.com",
            [MailSettings.SmtpAuthentication] = "password",
        };
        var errors = new Dictionary<string, string>();

        catalog.CheckCombination(n => values.TryGetValue(n, out var v) ? v : catalog.Find(n)!.DefaultValue, _ => false, errors);

        Assert.Contains(AdminOidcSettings.MetadataAddress, errors.Keys);
        Assert.Contains(AdminOidcSettings.ClientSecret, errors.Keys);
        Assert.Contains(MailSettings.SmtpUserName, errors.Keys);
        Assert.Contains(MailSettings.SmtpPassword, errors.Keys);
    }
}
