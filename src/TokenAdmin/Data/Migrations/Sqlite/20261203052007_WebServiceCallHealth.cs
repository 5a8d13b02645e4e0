using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class WebServiceCallHealth : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AlertCondition",
                table: "WebServices",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "CallFailingSince",
                table: "WebServices",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ConsecutiveCallFailures",
                table: "WebServices",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "LastCallError",
                table: "WebServices",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LastCallFailedAt",
                table: "WebServices",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AlertCondition",
                table: "WebServices");

            migrationBuilder.DropColumn(
                name: "CallFailingSince",
                table: "WebServices");

            migrationBuilder.DropColumn(
                name: "ConsecutiveCallFailures",
                table: "WebServices");

            migrationBuilder.DropColumn(
                name: "LastCallError",
                table: "WebServices");

            migrationBuilder.DropColumn(
                name: "LastCallFailedAt",
                table: "WebServices");
        }
    }
}
