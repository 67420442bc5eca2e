using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Http;

namespace Traceability.Api.Tests.Support;

/// <summary>
/// Reading the API's answers as its own response records, with the JSON options the API writes them with (enums as
/// camelCase strings). Tests that check the wire format itself (field names, a field left out, JSON-LD) read JSON nodes.
/// </summary>
public static class ApiAnswers
{
    public static readonly JsonSerializerOptions Json = ApiJson.Create();

    /// <summary>The body as <typeparamref name="T"/>, after checking the status (the body is the failure's message).</summary>
    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        response.StatusCode.Should().Be(status, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<T>(Json) ?? throw new InvalidOperationException($"the answer is JSON null, not a {typeof(T).Name}");
    }

    /// <summary>
    /// A problem answer (RFC 7807) with <paramref name="status"/>: the ProblemDetails, and its <c>errors</c> extension as
    /// the API's <see cref="FieldError"/> records (none when it has no such member).
    /// </summary>
    public static async Task<(ProblemDetails Problem, IReadOnlyList<FieldError> Errors)> ReadProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var problem = await response.ReadAsync<ProblemDetails>(status);
        (response.Content.Headers.ContentType?.MediaType).Should().Be("application/problem+json");
        var errors = problem.Extensions.TryGetValue("errors", out var e) && e is JsonElement list ? list.Deserialize<FieldError[]>(Json)! : [];
        return (problem, errors);
    }

    /// <summary>GET <paramref name="url"/>: 200 and its body as <typeparamref name="T"/>.</summary>
    public static async Task<T> GetAnswerAsync<T>(this HttpClient client, string url) => await (await client.GetAsync(url)).ReadAsync<T>();

    /// <summary>GET <paramref name="url"/>: the status, and the body as <typeparamref name="T"/> when it is 200 (else default).</summary>
    public static async Task<(int Status, T? Body)> GetStatusAndAnswerAsync<T>(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        return ((int)response.StatusCode, response.StatusCode == HttpStatusCode.OK ? await response.ReadAsync<T>() : default);
    }

    /// <summary>A capture's answer: 201 and its receipts, in document order.</summary>
    public static async Task<IReadOnlyList<Traceability.Api.Features.Capture.CaptureReceipt>> ReceiptsAsync(this HttpResponseMessage response) =>
        (await response.ReadAsync<Traceability.Api.Features.Capture.CaptureApi.CaptureResponse>(HttpStatusCode.Created)).Receipts;

    /// <summary>
    /// What a receipt promises about its event (id, hash, sequence, record time, deadline), without the request's signed
    /// tree (root, count, proof, signature), which belongs to each answer: an event sent again gets its first promise in a new tree.
    /// </summary>
    public static (string EventId, string EventHash, long Sequence, DateTimeOffset RecordTime, DateTimeOffset? AnchorDeadline) Promise(
        this Traceability.Api.Features.Capture.CaptureReceipt r) => (r.EventId, r.EventHash, r.Sequence, r.RecordTime, r.AnchorDeadline);

    /// <summary>The API key a client sends (to make a client for the same member after a restart).</summary>
    public static string ApiKeyOf(HttpClient client) => client.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
}
