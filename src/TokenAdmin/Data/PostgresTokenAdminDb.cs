using Microsoft.EntityFrameworkCore;

namespace TokenAdmin.Data;

/// <summary>
/// The same model as <see cref="TokenAdminDb"/>, on PostgreSQL. It is a type of its own only because EF Core keeps one
/// migrations set (and one model snapshot) per context type: the SQLite migrations belong to <see cref="TokenAdminDb"/>
/// (Data/Migrations/Sqlite), the PostgreSQL ones to this type (Data/Migrations/Postgres). Both are generated from the
/// one model; services always ask for <see cref="TokenAdminDb"/>.
/// </summary>
public sealed class PostgresTokenAdminDb(DbContextOptions<PostgresTokenAdminDb> options) : TokenAdminDb(options);
