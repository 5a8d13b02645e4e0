using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace TokenAdmin.Tokens;

/// <summary>A reason an import file is refused: for one entry (from 1), or for the whole file (entry 0).</summary>
public sealed record TokenImportError(int Entry, string? Name, string Message)
{
    public override string ToString() =>
        Entry == 0 ? Message : $"Entry {Entry}{(string.IsNullOrEmpty(Name) ? "" : $" '{Name}'")}: {Message}";
}

public sealed record TokenImportSkip(string Name, string Reason);

public sealed record TokenImportResult(
    string Format,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Updated,
    IReadOnlyList<TokenImportSkip> Skipped,
    IReadOnlyList<TokenImportError> Errors)
{
    public bool Succeeded => Errors.Count == 0;

    public static TokenImportResult Refused(string format, IReadOnlyList<TokenImportError> errors) => new(format, [], [], [], errors);
}

public sealed record TokenExportResult(string Yaml, string FileName, IReadOnlyList<string> Names, string? Error = null)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Export of token configs to one YAML file, and import of such a file or of a Znuny export: everything is read and
/// checked first, then written in one transaction, so a file with any problem changes nothing.
/// </summary>
public sealed class TokenConfigTransfer(TokenAdminDb db, TokenConfigService service, ISecretProtector protector, TimeProvider time)
{
    /// <summary>Larger files are refused before they are read: a real export of many configs is a few hundred KiB.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>A form upload may be this large: the file plus the multipart framing and the other fields.</summary>
    public const int MaxRequestBytes = MaxFileBytes + 64 * 1024;

    public const int ExportVersion = 1;

    /// <summary>Configs written per SaveChanges by an import (all in one transaction).</summary>
    internal const int WriteBatchSize = 500;
    public const string TokenAdminFormat = "TokenAdmin export";
    public const string ZnunyFormat = "Znuny export";

    public static readonly string TooLargeMessage =
        $"The file is larger than 1 MiB ({MaxFileBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes), so it was not read and nothing was imported. Export fewer token configs per file.";

    private const string ClientSecretKey = "clientSecret";
    private const string PasswordKey = "password";
    private const string ClientCertificateKey = "clientCertificate";
    private const string ServiceAccountKeyKey = "serviceAccountKey";
    private static readonly System.Text.Json.JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
    private static readonly HashSet<string> SecretKeys = new(StringComparer.Ordinal) { ClientSecretKey, PasswordKey, ClientCertificateKey, ServiceAccountKeyKey };
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The service from the container when it is registered there, else built from the container's parts.</summary>
    public static TokenConfigTransfer Create(IServiceProvider services) =>
        ActivatorUtilities.GetServiceOrCreateInstance<TokenConfigTransfer>(services);

    /// <summary>
    /// Writes the chosen configs (<paramref name="names"/>, ignoring case; none = all) as one YAML document. Secrets
    /// are decrypted into it only when <paramref name="includeSecrets"/>; the audit log records who and what, never a value.
    /// </summary>
    public async Task<TokenExportResult> ExportAsync(IReadOnlyCollection<string> names, bool includeSecrets, string actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var fileName = $"tokenadmin-tokens-{now:yyyyMMdd-HHmmss}.yaml";
        var wanted = names.Select(TokenConfig.Normalize).Distinct().ToList();
        var query = db.TokenConfigs.AsNoTracking();
        if (wanted.Count > 0)
        {
            query = query.Where(c => wanted.Contains(c.NormalizedName));
        }

        var configs = await query.OrderBy(c => c.NormalizedName).ToListAsync(cancellationToken);
        var missing = names.Where(n => configs.All(c => c.NormalizedName != TokenConfig.Normalize(n))).ToList();
        if (missing.Count > 0)
        {
            return new TokenExportResult("", fileName, [], string.Join(" ", missing.Select(n => $"There is no token config named '{n}'.")));
        }

        if (configs.Count == 0)
        {
            return new TokenExportResult("", fileName, [], "There are no token configs to export.");
        }

        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"# TokenAdmin export of {configs.Count} token config(s), {now:yyyy-MM-dd HH:mm:ss} UTC.\n");
        yaml.Append(includeSecrets
            ? "# It holds client secrets, passwords and client certificate keys in plain text: keep it as safe as the secrets, and delete it once imported.\n"
            : "# Client secrets, passwords and client certificates are left out: enter them again after importing.\n");
        yaml.Append(TokenConfigYaml.Write(new ExportHeader { TokenAdminExport = ExportVersion, ExportedAt = $"{now:yyyy-MM-ddTHH:mm:ssZ}" }));
        yaml.Append(YamlListScanner.ListKey).Append(":\n");
        foreach (var config in configs)
        {
            var entry = TokenConfigYaml.Write(TokenConfigYaml.Parse(config.Yaml));
            if (includeSecrets && (config.ClientSecretProtected is not null || config.PasswordProtected is not null || config.Certificate.Present || config.ServiceAccountKey.Present))
            {
                try
                {
                    entry += TokenConfigYaml.Write(new ExportSecrets
                    {
                        ClientSecret = service.ClientSecret(config),
                        Password = service.Password(config),
                        ClientCertificate = config.Certificate.Protected is { } certificate ? protector.Unprotect(certificate) : null,
                        ServiceAccountKey = config.ServiceAccountKey.Present ? ServiceAccountKeyJson(config.ServiceAccountKey) : null,
                    });
                }
                catch (SecretUnreadableException)
                {
                    return new TokenExportResult("", fileName, [],
                        $"The secrets of '{config.Name}' cannot be decrypted (another key ring or master key wrote them). Enter them again, or export without secrets.");
                }
            }

            AppendListItem(yaml, entry);
        }

        var exported = configs.Select(c => c.Name).ToList();
        AuditLog.Add(db, time, actor, "token-configs.exported", string.Join(", ", exported),
            $"{configs.Count} token config(s), " + (includeSecrets ? "with secrets (client secrets and passwords in plain text)" : "without secrets"));
        await db.SaveChangesAsync(cancellationToken);
        return new TokenExportResult(yaml.ToString(), fileName, exported);
    }

    /// <summary>
    /// Reads a TokenAdmin or Znuny export and applies it all or nothing. Names that exist are skipped unless
    /// <paramref name="overwrite"/>, which updates those (and only those); new names are added.
    /// </summary>
    /// <param name="source">What the file was called, for the audit log.</param>
    public async Task<TokenImportResult> ImportAsync(Stream content, bool overwrite, string actor, string source, CancellationToken cancellationToken)
    {
        var bytes = await ReadLimitedAsync(content, cancellationToken);
        if (bytes is null)
        {
            return TokenImportResult.Refused("", [new TokenImportError(0, null, TooLargeMessage)]);
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException)
        {
            return TokenImportResult.Refused("", [new TokenImportError(0, null, "The file is not UTF-8 text; save it as UTF-8 and import it again.")]);
        }

        var (format, entries, errors) = Parse(text, cancellationToken);
        if (errors.Any(e => e.Entry == 0))
        {
            return TokenImportResult.Refused(format, errors);
        }

        // Note: the entries that could be read are checked even when others could not, so one pass lists every problem.
        return await ApplyAsync(format, entries, errors, overwrite, actor, Path.GetFileName(source), cancellationToken);
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxFileBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static (string Format, List<ImportEntry> Entries, List<TokenImportError> Errors) Parse(string text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ("", [], [new TokenImportError(0, null, "The file is empty.")]);
        }

        try
        {
            // Note: first, before any parser (the entry scanner that credits errors to entries included): deep nesting
            // costs a YAML parser the square of its depth.
            YamlNesting.Check(text, cancellationToken);
        }
        catch (TokenConfigYamlException ex)
        {
            return ("", [], [new TokenImportError(0, null, ex.Message)]);
        }

        object? root;
        try
        {
            // Note: reading the whole file first checks its syntax and bounds its aliases before anything else.
            root = TokenConfigYaml.Read<object>(text, cancellationToken);
        }
        catch (TokenConfigYamlException ex)
        {
            return ("", [], [Locate(text, ex.Message)]);
        }

        return root switch
        {
            Dictionary<object, object> map when map.ContainsKey("tokenAdminExport") => ParseTokenAdmin(text, cancellationToken),
            List<object> list when list.OfType<Dictionary<object, object>>().Any(e => e.ContainsKey("Name") && e.ContainsKey("Config")) => ParseZnuny(text, cancellationToken),
            Dictionary<object, object> map when map.ContainsKey("name") || map.ContainsKey("clientId") => ("", [], [new TokenImportError(0, null,
                "This is a single token config, not an export. An export starts with 'tokenAdminExport: 1' and lists the configs under 'tokenConfigs:'.")]),
            null => ("", [], [new TokenImportError(0, null, "The file is empty.")]),
            _ => ("", [], [new TokenImportError(0, null,
                "This file is neither a TokenAdmin export (it starts with 'tokenAdminExport: 1') nor a Znuny token config export (a list of entries with Name and Config).")]),
        };
    }

    private static (string, List<ImportEntry>, List<TokenImportError>) ParseTokenAdmin(string text, CancellationToken cancellationToken)
    {
        ExportHeader header;
        try
        {
            header = TokenConfigYaml.Read<ExportHeader>(text, cancellationToken)!;
        }
        catch (TokenConfigYamlException ex)
        {
            return (TokenAdminFormat, [], [Locate(text, ex.Message)]);
        }

        if (header.TokenAdminExport != ExportVersion)
        {
            return (TokenAdminFormat, [], [new TokenImportError(0, null,
                $"tokenAdminExport: {header.TokenAdminExport} is a version this TokenAdmin does not know; it reads version {ExportVersion}.")]);
        }

        if (header.TokenConfigs is not { Count: > 0 })
        {
            return (TokenAdminFormat, [], [new TokenImportError(0, null, "The file holds no token configs: tokenConfigs is missing or empty.")]);
        }

        var scanned = YamlListScanner.Scan(text, SecretKeys, out _);
        if (scanned.Count != header.TokenConfigs.Count)
        {
            // An alias for the whole list, or tokenConfigs given twice: the entries would not be the ones checked.
            return (TokenAdminFormat, [], [new TokenImportError(0, null,
                "tokenConfigs must be one list written out in the file (once, and not as an alias).")]);
        }

        var entries = new List<ImportEntry>();
        var errors = new List<TokenImportError>();
        foreach (var entry in scanned)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Check(entry) is { } problem)
            {
                errors.Add(problem);
                continue;
            }

            try
            {
                var document = entry.Read<TokenConfigDocument>();
                var secrets = new TokenConfigSecrets(entry.Extracted.GetValueOrDefault(ClientSecretKey), entry.Extracted.GetValueOrDefault(PasswordKey))
                {
                    Certificate = entry.Extracted.GetValueOrDefault(ClientCertificateKey) is { Length: > 0 } pem ? new ClientCertificateUpload(Encoding.UTF8.GetBytes(pem), null) : null,
                    ServiceAccountKeyFile = entry.Extracted.GetValueOrDefault(ServiceAccountKeyKey) is { Length: > 0 } json ? Encoding.UTF8.GetBytes(json) : null,
                };
                entries.Add(new ImportEntry(entry.Index, document!, secrets));
            }
            catch (TokenConfigYamlException ex)
            {
                errors.Add(new TokenImportError(entry.Index, entry.Name, ex.Message));
            }
        }

        return (TokenAdminFormat, entries, errors);
    }

    private static (string, List<ImportEntry>, List<TokenImportError>) ParseZnuny(string text, CancellationToken cancellationToken)
    {
        var entries = new List<ImportEntry>();
        var errors = new List<TokenImportError>();
        foreach (var entry in YamlListScanner.Scan(text, new HashSet<string>(), out _))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Check(entry) is { } problem)
            {
                errors.Add(problem);
                continue;
            }

            ZnunyTokenConfig znuny;
            try
            {
                znuny = entry.Read<ZnunyTokenConfig>()!;
            }
            catch (TokenConfigYamlException ex)
            {
                errors.Add(new TokenImportError(entry.Index, entry.Name, ex.Message.Replace(
                    "See docs/token-config.md for the keys a token config has.",
                    "A Znuny token config has Name, Config, ValidID, CreateTime, CreateBy, ChangeTime and ChangeBy; see docs/token-config.md.",
                    StringComparison.Ordinal)));
                continue;
            }

            var (document, secrets, problems) = ZnunyTokenConfigMapper.Map(znuny);
            errors.AddRange(problems.Select(p => new TokenImportError(entry.Index, entry.Name, p)));
            if (document is not null)
            {
                entries.Add(new ImportEntry(entry.Index, document, secrets));
            }
        }

        return (ZnunyFormat, entries, errors);
    }

    private static TokenImportError? Check(YamlListEntry entry) =>
        entry.Problem is { } problem ? new TokenImportError(entry.Index, entry.Name, problem)
        : !entry.IsMapping ? new TokenImportError(entry.Index, null, $"Line {entry.Line}, column {entry.Column}: an entry must be a token config (keys and values), not a single value or a list.")
        : null;

    /// <summary>A YAML error of the whole file, credited to the entry it is in when it is in one.</summary>
    private static TokenImportError Locate(string text, string message)
    {
        var entries = YamlListScanner.Scan(text, new HashSet<string>(), out _);
        var line = YamlListScanner.LineOf(message);
        var entry = line is null ? null : entries.LastOrDefault(e => e.Line <= line && line <= e.EndLine);
        return new TokenImportError(entry?.Index ?? 0, entry?.Name, message);
    }

    private async Task<TokenImportResult> ApplyAsync(
        string format, List<ImportEntry> entries, List<TokenImportError> errors, bool overwrite, string actor, string source, CancellationToken cancellationToken)
    {
        var existing = await db.TokenConfigs.AsNoTracking().ToDictionaryAsync(c => c.NormalizedName, cancellationToken);
        var firstUse = new Dictionary<string, int>(StringComparer.Ordinal);
        var plan = new List<(ImportEntry Entry, TokenConfig? Current)>();
        var skipped = new List<TokenImportSkip>();
        foreach (var entry in entries)
        {
            var document = entry.Document;
            var name = document.Name?.Trim() ?? "";
            var normalized = TokenConfig.Normalize(name);
            if (name.Length > 0 && !firstUse.TryAdd(normalized, entry.Index))
            {
                errors.Add(new TokenImportError(entry.Index, name,
                    $"name: entry {firstUse[normalized]} has this name too; names must differ, ignoring upper and lower case."));
                continue;
            }

            var current = name.Length > 0 ? existing.GetValueOrDefault(normalized) : null;
            if (current is not null && overwrite && document.Template != current.Template)
            {
                errors.Add(new TokenImportError(entry.Index, name,
                    $"template: the template is fixed once saved; '{current.Name}' is '{current.Template}' here and '{document.Template}' in the file. Import it under another name, or change the file."));
            }

            // Note: entries that will be skipped are checked too: a file is accepted only when all of it is valid.
            var hasSecret = entry.Secrets.ClientSecret is { Length: > 0 } || current?.ClientSecretProtected is not null;
            var hasPassword = entry.Secrets.Password is { Length: > 0 } || current?.PasswordProtected is not null;
            var certificate = current is { Certificate.Present: true } ? current.Certificate : null;
            if (entry.Secrets.Certificate is { } upload)
            {
                // Read here, once: a certificate that cannot be used refuses the file before anything is written.
                (certificate, var certificateError) = ClientCertificates.Read(upload, protector, time.GetUtcNow().UtcDateTime);
                if (certificateError is not null)
                {
                    errors.Add(new TokenImportError(entry.Index, name, $"{ClientCertificateKey}: {certificateError}"));
                }
                else
                {
                    entry.Secrets = entry.Secrets with { Certificate = null, ReadCertificate = certificate };
                }
            }

            var serviceAccountKey = current is { ServiceAccountKey.Present: true } ? current.ServiceAccountKey : null;
            if (entry.Secrets.ServiceAccountKeyFile is { } keyFile)
            {
                (serviceAccountKey, var keyError) = JwtBearerGrant.Read(keyFile, protector);
                if (keyError is not null)
                {
                    errors.Add(new TokenImportError(entry.Index, name, $"{ServiceAccountKeyKey}: {keyError}"));
                }
                else
                {
                    entry.Secrets = entry.Secrets with { ServiceAccountKeyFile = null, ReadServiceAccountKey = serviceAccountKey };
                }
            }

            // Note: names are checked against the set loaded once above (one query, not one per entry).
            var problems = await service.PrepareAsync(document, hasSecret, hasPassword, current?.Id, cancellationToken,
                hasCertificate: certificate is not null, certificate?.KeyType, hasServiceAccountKey: serviceAccountKey is not null,
                nameTaken: n => existing.TryGetValue(n, out var other) && other.Id != current?.Id);
            errors.AddRange(problems.Select(p => new TokenImportError(entry.Index, name, p.Key.Length == 0 ? p.Value : $"{p.Key}: {p.Value}")));

            if (current is not null && !overwrite)
            {
                skipped.Add(new TokenImportSkip(current.Name, "a token config of this name exists; import with overwrite to update it"));
            }
            else
            {
                plan.Add((entry, current));
            }
        }

        if (errors.Count > 0)
        {
            return TokenImportResult.Refused(format, [.. errors.OrderBy(e => e.Entry)]);
        }

        return await WriteAsync(format, plan, skipped, overwrite, actor, source, cancellationToken);
    }

    private async Task<TokenImportResult> WriteAsync(
        string format, List<(ImportEntry Entry, TokenConfig? Current)> plan, List<TokenImportSkip> skipped,
        bool overwrite, string actor, string source, CancellationToken cancellationToken)
    {
        var added = new List<string>();
        var updated = new List<string>();
        if (plan.Any(p => p.Entry.Secrets.ClientSecret is { Length: > 0 } || p.Entry.Secrets.Password is { Length: > 0 } || p.Entry.Secrets.ReadCertificate is not null || p.Entry.Secrets.ReadServiceAccountKey is not null))
        {
            // Note: the first secret of an installation creates the Data Protection key, which is stored through a
            // connection of its own; inside the transaction below that write would wait on the transaction's lock.
            protector.Protect("key ring check");
        }

        // Every entry was checked above (ApplyAsync), so it is written as checked, without checking again, in batches
        // of WriteBatchSize per SaveChanges, the context emptied after each: the change tracker stays small, so a save
        // costs the same for the 5,000th config as for the first. One transaction around all: all or nothing.
        var changed = new List<int>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            foreach (var batch in plan.Chunk(WriteBatchSize))
            {
                var ids = batch.Where(p => p.Current is not null).Select(p => p.Current!.Id).ToList();
                var tracked = ids.Count == 0
                    ? new Dictionary<int, TokenConfig>()
                    : await db.TokenConfigs.Include(c => c.State).Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken);
                var written = new List<(TokenConfig Config, bool Added)>();
                foreach (var (entry, current) in batch)
                {
                    TokenConfig? target = null;
                    if (current is not null && (!tracked.TryGetValue(current.Id, out target) || target.Version != current.Version))
                    {
                        // Someone changed the token configs since the check; what was written so far goes back.
                        await transaction.RollbackAsync(cancellationToken);
                        db.ChangeTracker.Clear();
                        return TokenImportResult.Refused(format, [new TokenImportError(entry.Index, entry.Document.Name, target is null
                            ? "This token config was deleted while the file was imported, so nothing was imported. Import the file again."
                            : $"{target.ChangedBy} changed this token config at {target.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while the file was imported, so nothing was imported. Import the file again.")]);
                    }

                    written.Add((service.ApplyChecked(target, entry.Document, entry.Secrets, actor), current is null));
                }

                await db.SaveChangesAsync(cancellationToken);
                foreach (var (config, isNew) in written)
                {
                    (isNew ? added : updated).Add(config.Name);
                    changed.Add(config.Id);
                }

                db.ChangeTracker.Clear();
            }

            AuditLog.Add(db, time, actor, "token-configs.imported", source,
                $"{format}{(overwrite ? ", overwrite" : "")}: added {List(added)}; updated {List(updated)}; skipped {List(skipped.Select(s => s.Name))}");
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return TokenImportResult.Refused(format, [new TokenImportError(0, null,
                $"The database refused the import, so nothing was imported: {ex.InnerException?.Message ?? ex.Message}")]);
        }

        service.Announce(changed);
        return new TokenImportResult(format, added, updated, skipped, []);
    }

    private static string List(IEnumerable<string> names)
    {
        var list = string.Join(", ", names);
        return list.Length == 0 ? "none" : list;
    }

    /// <summary>Appends a block mapping as one item of a block sequence: "- " before its first line, two spaces before the rest.</summary>
    private static void AppendListItem(StringBuilder yaml, string mapping)
    {
        var lines = mapping.TrimEnd('\n').Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            yaml.Append(i == 0 ? "- " : lines[i].Length == 0 ? "" : "  ").Append(lines[i]).Append('\n');
        }
    }

    private sealed record ImportEntry(int Index, TokenConfigDocument Document, TokenConfigSecrets Secrets)
    {
        public TokenConfigSecrets Secrets { get; set; } = Secrets;
    }

    /// <summary>The top of an export file. Its entries are read one by one (see <see cref="YamlListScanner"/>).</summary>
    public sealed class ExportHeader
    {
        public int TokenAdminExport { get; set; }
        public string? ExportedAt { get; set; }
        public List<object?>? TokenConfigs { get; set; }
    }

    /// <summary>Secrets written beside a config. Double-quoted, so that a secret such as "null" or "~" stays itself.</summary>
    public sealed class ExportSecrets
    {
        [YamlMember(Alias = ClientSecretKey, ScalarStyle = ScalarStyle.DoubleQuoted)]
        public string? ClientSecret { get; set; }

        [YamlMember(Alias = PasswordKey, ScalarStyle = ScalarStyle.DoubleQuoted)]
        public string? Password { get; set; }

        /// <summary>The client certificate and its private key, as PEM.</summary>
        [YamlMember(Alias = ClientCertificateKey, ScalarStyle = ScalarStyle.Literal)]
        public string? ClientCertificate { get; set; }

        /// <summary>The JWT bearer grant's service-account key, as a JSON key file (what the import reads back).</summary>
        [YamlMember(Alias = ServiceAccountKeyKey, ScalarStyle = ScalarStyle.Literal)]
        public string? ServiceAccountKey { get; set; }
    }

    /// <summary>The stored key as a service account's JSON key file (type, client_email, private_key_id, private_key, token_uri).</summary>
    private string ServiceAccountKeyJson(ServiceAccountKey key)
    {
        var values = new Dictionary<string, string?>
        {
            ["type"] = "service_account",
            ["client_email"] = key.ClientEmail,
            ["private_key_id"] = key.PrivateKeyId,
            ["private_key"] = protector.Unprotect(key.Protected!),
        };
        if (key.TokenUri is not null)
        {
            values["token_uri"] = key.TokenUri;
        }

        return System.Text.Json.JsonSerializer.Serialize(values, IndentedJson) + "\n";
    }
}
