using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace TokenAdmin.Pages;

// The form convention's accessibility, added to the built-in tag helpers so that no page writes it by hand:
// a field with an error says so (aria-invalid) and points at its message (aria-describedby), a required field says so
// (aria-required, and a mark in its label), and the message has the ID the field points at. See docs/forms.md.

/// <summary>Marks an <c>asp-for</c> field invalid and ties it to its message; marks [Required] fields.</summary>
[HtmlTargetElement("input", Attributes = ForAttribute)]
[HtmlTargetElement("select", Attributes = ForAttribute)]
[HtmlTargetElement("textarea", Attributes = ForAttribute)]
public sealed class FieldStateTagHelper : TagHelper
{
    private const string ForAttribute = "asp-for";

    // Note: after the built-in Input/Select/TextArea tag helpers (Order -1000), so the id they write is there to read.
    public override int Order => 100;

    [HtmlAttributeName(ForAttribute)]
    public ModelExpression For { get; set; } = null!;

    [HtmlAttributeNotBound]
    [ViewContext]
    public ViewContext ViewContext { get; set; } = null!;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        if (output.Attributes.TryGetAttribute("type", out var type) && type.Value?.ToString() is "hidden" or "checkbox" or "radio")
        {
            return;
        }

        var name = FormFields.FullName(ViewContext, For);
        var id = output.Attributes.TryGetAttribute("id", out var idAttribute) ? idAttribute.Value?.ToString() ?? FormFields.Id(name) : FormFields.Id(name);
        if (FormFields.IsRequired(For))
        {
            output.Attributes.SetAttribute("aria-required", "true");
        }

        if (ViewContext.ModelState.TryGetValue(name, out var entry) && entry.Errors.Count > 0)
        {
            output.Attributes.SetAttribute("aria-invalid", "true");
            var describedBy = output.Attributes.TryGetAttribute("aria-describedby", out var existing) ? existing.Value?.ToString() : null;
            output.Attributes.SetAttribute("aria-describedby", string.IsNullOrEmpty(describedBy) ? FormFields.ErrorId(id) : $"{FormFields.ErrorId(id)} {describedBy}");
        }
    }
}

/// <summary>Adds the required mark to the label of a [Required] field.</summary>
[HtmlTargetElement("label", Attributes = "asp-for")]
public sealed class RequiredLabelTagHelper : TagHelper
{
    public override int Order => 100;

    [HtmlAttributeName("asp-for")]
    public ModelExpression For { get; set; } = null!;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        if (FormFields.IsRequired(For))
        {
            // The mark is for the eye; screen readers hear "required" from the field's aria-required. It goes after the
            // label, not into it, so the label (and the field's accessible name) stays the plain field name.
            output.PostElement.AppendHtml("<span class=\"required-mark\" aria-hidden=\"true\">*</span>");
        }
    }
}

/// <summary>Gives a field's message the ID its field points at with aria-describedby.</summary>
[HtmlTargetElement("span", Attributes = "asp-validation-for")]
[HtmlTargetElement("p", Attributes = "asp-validation-for")]
public sealed class FieldMessageTagHelper : TagHelper
{
    public override int Order => 100;

    [HtmlAttributeName("asp-validation-for")]
    public ModelExpression For { get; set; } = null!;

    [HtmlAttributeNotBound]
    [ViewContext]
    public ViewContext ViewContext { get; set; } = null!;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        if (!output.Attributes.ContainsName("id"))
        {
            output.Attributes.SetAttribute("id", FormFields.ErrorId(FormFields.Id(FormFields.FullName(ViewContext, For))));
        }
    }
}

/// <summary>Names and IDs of form fields, the same way the built-in tag helpers build them.</summary>
public static class FormFields
{
    public static string FullName(ViewContext viewContext, ModelExpression expression) =>
        viewContext.ViewData.TemplateInfo.GetFullHtmlFieldName(expression.Name);

    public static string Id(string fullName) => TagBuilder.CreateSanitizedId(fullName, "_");

    public static string ErrorId(string fieldId) => fieldId + "-error";

    public static bool IsRequired(ModelExpression expression) =>
        expression.Metadata.ValidatorMetadata.OfType<RequiredAttribute>().Any();
}
