using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Nethereum.Signer;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Events;
using Traceability.Api.Features.Platform;
using Traceability.Api.Features.Signing;
using Traceability.Api.Tests.Support;
using Traceability.Chain;

namespace Traceability.Api.Tests.Signing;

/// <summary>
/// Member-signed capture on a real Hardhat node: a member proves an address and the service registers it on chain; the
/// member signs a document with scripts/sign's command (the verifier's "sign", run as a process); the bundle verifies with
/// the verifier process, signature included; another member's key, a revoked key, a missing signature are refused or
/// caught by the verifier and the self-audit.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class SignedCaptureTests(ChainFixture chain) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-signed-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { /* still held: harmless */ }
    }

    private Task<TraceService> StartAsync(bool requireSignatures = false) => chain.StartSigningServiceAsync(requireSignatures);

    /// <summary>Proves <paramref name="key"/>'s address for the member and checks the service registered it on chain.</summary>
    /// <param name="viaScript">Take the body from scripts/sign --claim (the verifier's sign command as a process).</param>
    private async Task<string> AddAddressAsync(TraceService service, HttpClient member, string memberId, EthECKey key, bool viaScript = false)
    {
        var address = EthAddress.Normalize(key.GetPublicAddress());
        var signature = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(memberId, address), key);
        if (viaScript)
        {
            var (exit, output, error) = await VerifierProcess.RunAsync("sign", "--claim", memberId, "--key", key.GetPrivateKey());
            exit.Should().Be(0, error);
            var claim = JsonNode.Parse(output)!;
            claim["address"]!.GetValue<string>().Should().Be(address);
            signature = claim["signature"]!.GetValue<string>();
        }
        var body = await (await member.PostAsJsonAsync($"/api/v1/members/{memberId}/addresses", new { address, signature }))
            .ReadAsync<MemberAddressesApi.MemberAddressResponse>(HttpStatusCode.Created);
        body.Active.Should().BeTrue();
        using var http = new HttpClient();
        var onChain = await new AnchorRegistryClient(new HttpRpcClient(http, chain.Node.RpcUrl), service.Registry.Contract).MemberOfAsync(address, default);
        onChain.MemberId.Should().Equal(MemberSignatures.MemberIdBytes32(memberId));
        onChain.ValidFromBlock.Should().Be(body.RegisteredBlock);
        return address;
    }

    private async Task<HttpResponseMessage> CaptureSignedAsync(HttpClient member, string document, string header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/capture") { Content = new StringContent(document, Encoding.UTF8, new MediaTypeHeaderValue("application/ld+json")) };
        request.Headers.TryAddWithoutValidation("Trace-Signature", header);
        return await member.SendAsync(request);
    }

    /// <summary>The header value scripts/sign prints for <paramref name="document"/> (the verifier's sign command as a process).</summary>
    private async Task<string> SignAsync(TraceService service, string document, EthECKey key)
    {
        var path = Path.Combine(_dir, $"doc-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, document);
        var chainId = (await service.Admin.GetAnswerAsync<PlatformApi.ChainResponse>("/api/v1/chain")).ChainId!.Value;
        var (exit, output, error) = await VerifierProcess.RunAsync("sign", path, "--key", key.GetPrivateKey(), "--chain-id", chainId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--contract", service.Registry.Contract);
        exit.Should().Be(0, error);
        output.Should().StartWith("Trace-Signature: 0x");
        return output.Trim()["Trace-Signature: ".Length..];
    }

    private async Task<string> BundleFileAsync(TraceService service, long sequence)
    {
        var path = Path.Combine(_dir, $"bundle-{sequence}-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, await service.Admin.GetStringAsync($"/api/v1/events/{sequence}/proof"));
        return path;
    }


    [Fact]
    public async Task ASignedCaptureVerifiesEndToEndAndADocumentSignedWithAnotherMembersKeyIsRefused()
    {
        await using var service = await StartAsync();
        var (maker, makerId) = await service.MemberAsync("manufacturer");
        var (other, otherId) = await service.MemberAsync("manufacturer", "Other Co.");
        var makerKey = EthECKey.GenerateKey();
        var otherKey = EthECKey.GenerateKey();
        var makerAddress = await AddAddressAsync(service, maker, makerId, makerKey);
        var otherAddress = await AddAddressAsync(service, other, otherId, otherKey);

        // Adding an address: the address as checksummed, a signature by its key, the member itself.
        var lower = makerAddress.ToLowerInvariant();
        (await maker.PostAsJsonAsync($"/api/v1/members/{makerId}/addresses", new { address = lower, signature = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(makerId, lower), makerKey) }))
            .StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var stranger = EthECKey.GenerateKey();
        var strangerAddress = EthAddress.Normalize(stranger.GetPublicAddress());
        var wrongKey = await maker.PostAsJsonAsync($"/api/v1/members/{makerId}/addresses",
            new { address = strangerAddress, signature = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(makerId, strangerAddress), makerKey) });
        wrongKey.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await wrongKey.Content.ReadAsStringAsync()).Should().Contain("address-signature");
        (await other.PostAsJsonAsync($"/api/v1/members/{makerId}/addresses", new { address = strangerAddress, signature = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(makerId, strangerAddress), stranger) }))
            .StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await maker.PostAsJsonAsync($"/api/v1/members/{makerId}/addresses", new { address = otherAddress, signature = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(makerId, otherAddress), otherKey) }))
            .StatusCode.Should().Be(HttpStatusCode.Conflict);
        var listed = await maker.GetAnswerAsync<MemberAddressesApi.MemberAddressList>($"/api/v1/members/{makerId}/addresses");
        listed.Items.Select(i => i.Address).Should().Equal(makerAddress);

        // A signed document is captured and its signature stored per event.
        var document = EpcisDocs.Commissioning(3);
        var header = await SignAsync(service, document, makerKey);
        (await CaptureSignedAsync(maker, document, header)).StatusCode.Should().Be(HttpStatusCode.Created);
        service.Scalar("SELECT COUNT(*) FROM event_signatures").Should().Be(3);

        // The same kind of document signed with the other member's (registered) key: refused, nothing stored.
        var second = EpcisDocs.Commissioning(2);
        var refused = await CaptureSignedAsync(maker, second, await SignAsync(service, second, otherKey));
        var (_, errors) = await refused.ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        errors[0].Rule.Should().Be("signature-not-member");
        errors[0].Message.Should().Contain(otherAddress);
        service.Scalar("SELECT COUNT(*) FROM events").Should().Be(3);
        service.Scalar("SELECT COUNT(*) FROM signed_documents").Should().Be(1);

        // A header that is not a 65-byte signature: 400 naming it. A signature over other events: refused.
        var malformed = await CaptureSignedAsync(maker, second, "0x1234");
        malformed.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await malformed.Content.ReadAsStringAsync()).Should().Contain("Trace-Signature");
        (await CaptureSignedAsync(maker, second, header)).StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);

        (await service.AnchorAsync()).Status.Should().Be(200);
        var rpc = chain.Node.RpcUrl.ToString();
        var bundlePath = await BundleFileAsync(service, 2);
        var signed = System.Text.Json.JsonSerializer.Deserialize<EventsApi.ProofBundle>(await File.ReadAllTextAsync(bundlePath), ApiAnswers.Json)!.Signature!;
        signed.Signer.Should().Be(makerAddress);
        signed.MemberId.Should().Be(makerId);
        signed.EventCount.Should().Be(3);
        // The bundle file as the verifier reads it, edited below as someone tampering with it would.
        var bundle = JsonNode.Parse(await File.ReadAllTextAsync(bundlePath))!;

        var verified = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--require-signature");
        verified.Exit.Should().Be(0, verified.Out + verified.Err);
        verified.Out.Should().StartWith("VERIFIED event 2").And.Contain($"signed by {makerAddress} of member {makerId}");

        // The bundle's signature claimed for the other member: the chain says the signer was not its address.
        bundle["signature"]!["memberId"] = otherId;
        await File.WriteAllTextAsync(bundlePath, bundle.ToJsonString());
        var claimed = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc);
        claimed.Exit.Should().Be(1);
        claimed.Out.Should().Contain("was not an address of member " + otherId);

        // Event 2's proof in the signed tree replaced by event 1's: not in the signed root.
        bundle["signature"]!["memberId"] = makerId;
        var firstBundle = JsonNode.Parse(await File.ReadAllTextAsync(await BundleFileAsync(service, 1)))!;
        bundle["signature"]!["proof"] = firstBundle["signature"]!["proof"]!.DeepClone();
        await File.WriteAllTextAsync(bundlePath, bundle.ToJsonString());
        var moved = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc);
        moved.Exit.Should().Be(1);
        moved.Out.Should().StartWith("FAILED: signature: the event's digest is not in the signed eventsRoot");

        var audit = await (await service.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>();
        audit.Status.Should().Be("ok", audit.Summary);
    }

    [Fact]
    public async Task AnEventInAMembersNameWithoutItsSignatureFailsRequireSignatureAndTheSelfAudit()
    {
        await using var service = await StartAsync(requireSignatures: true);
        var (maker, makerId) = await service.MemberAsync("manufacturer");
        var key = EthECKey.GenerateKey();
        await AddAddressAsync(service, maker, makerId, key);

        var unsigned = await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(1));
        (await unsigned.ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors[0].Rule.Should().Be("signature-required");

        var document = EpcisDocs.Commissioning(2);
        (await CaptureSignedAsync(maker, document, await SignAsync(service, document, key))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await service.AnchorAsync()).Status.Should().Be(200);
        var clean = await (await service.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>();
        clean.Status.Should().Be("ok", clean.Summary);

        // Behind the service's back: event 2 left in the member's name, its signature gone.
        service.Execute("DELETE FROM event_signatures WHERE sequence = 2").Should().Be(1);
        var rpc = chain.Node.RpcUrl.ToString();
        var bundle = await BundleFileAsync(service, 2);
        System.Text.Json.JsonSerializer.Deserialize<EventsApi.ProofBundle>(await File.ReadAllTextAsync(bundle), ApiAnswers.Json)!.Signature.Should().BeNull();
        (await VerifierProcess.RunAsync(bundle, "--rpc", rpc)).Out.Should().StartWith("VERIFIED event 2").And.Contain("unsigned");
        var required = await VerifierProcess.RunAsync(bundle, "--rpc", rpc, "--require-signature");
        required.Exit.Should().Be(1);
        required.Out.Should().StartWith("FAILED: unsigned: event 2 carries no member signature");

        (await (await service.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>()).Status.Should().Be("failed");
        service.Scalar("SELECT COUNT(*) FROM audit_findings WHERE kind = 'signature-missing' AND event_sequence = 2").Should().Be(1);
        service.Scalar("SELECT COUNT(*) FROM audit_findings WHERE event_sequence = 1").Should().Be(0);

        // A stored signature that no longer holds (the signed root altered) is a signature finding too.
        service.Execute("UPDATE signed_documents SET events_root = '0x" + new string('0', 63) + "1'").Should().Be(1);
        await service.Admin.PostAsync("/api/v1/audit/run", null);
        service.Scalar("SELECT COUNT(*) FROM audit_findings WHERE kind = 'signature' AND event_sequence = 1").Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task AnAddressRevokedLaterLeavesEarlierEventsValidAndRefusesLaterOnes()
    {
        await using var service = await StartAsync();
        var (maker, makerId) = await service.MemberAsync("manufacturer");
        var key = EthECKey.GenerateKey();
        var address = await AddAddressAsync(service, maker, makerId, key, viaScript: true);

        var before = EpcisDocs.Commissioning(2);
        (await CaptureSignedAsync(maker, before, await SignAsync(service, before, key))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await service.AnchorAsync()).Status.Should().Be(200);
        var bundle = await BundleFileAsync(service, 1);

        var revoked = await maker.DeleteAsync($"/api/v1/members/{makerId}/addresses/{address}");
        (await revoked.ReadAsync<MemberAddressesApi.MemberAddressResponse>()).Active.Should().BeFalse();
        using (var http = new HttpClient())
            (await new AnchorRegistryClient(new HttpRpcClient(http, chain.Node.RpcUrl), service.Registry.Contract).MemberOfAsync(address, default))
                .ValidUntilBlock.Should().BeGreaterThan(0);

        var rpc = chain.Node.RpcUrl.ToString();
        var earlier = await VerifierProcess.RunAsync(bundle, "--rpc", rpc, "--require-signature");
        earlier.Exit.Should().Be(0, earlier.Out + earlier.Err);

        var after = EpcisDocs.Commissioning(1);
        var refused = await CaptureSignedAsync(maker, after, await SignAsync(service, after, key));
        (await refused.ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors[0].Rule.Should().Be("signature-not-member");

        // A revoked address is never registered again, and revoking twice is a conflict.
        (await maker.PostAsJsonAsync($"/api/v1/members/{makerId}/addresses", new { address, signature = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(makerId, address), key) }))
            .StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await maker.DeleteAsync($"/api/v1/members/{makerId}/addresses/{address}")).StatusCode.Should().Be(HttpStatusCode.Conflict);
    }
}
