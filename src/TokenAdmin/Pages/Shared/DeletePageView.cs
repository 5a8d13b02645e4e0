namespace TokenAdmin.Pages;

/// <summary>
/// The one delete pattern (docs/forms.md): what goes, and — before any click — what still uses the item. While
/// something does, the page says what and the Delete button is disabled (the service refuses a post too).
/// </summary>
public sealed record DeletePageView(string Heading, IReadOnlyList<string> Blockers, string Consequence, string CancelUrl, string Button = "Delete");
