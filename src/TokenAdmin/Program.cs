using TokenAdmin.Cli;
using TokenAdmin.Hosting;
using TokenAdmin.Settings;

// A first argument that is not an option names a console verb (`admin create`, `config list`, ...); --help, -h and
// --version anywhere print and exit, and never start the web server.
if (CliApp.IsVerb(args))
{
    return await CliApp.RunAsync(args, Console.In, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot.Find() });
builder.AddTokenAdmin();

var app = builder.Build();
await app.PrepareTokenAdminAsync();
app.UseTokenAdmin();
await app.RunAsync();
return 0;
