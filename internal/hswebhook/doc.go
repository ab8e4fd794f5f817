// Package hswebhook reads HubSpot's webhook batches (POST /v1/webhooks/hubspot):
// it verifies the v3 signature, parses the batch and maps each notification to
// leadflow events. It is pure apart from the lookups in Deps; the HTTP edge
// (internal/api) delivers what Map returns through the same path as
// POST /v1/events.
//
// # HubSpot's behaviour this relies on (developers.hubspot.com, webhooks and request validation)
//
//   - Signature v3: X-HubSpot-Signature-v3 = base64(HMAC-SHA256(app client
//     secret, method + URI + raw body + X-HubSpot-Request-Timestamp)), the URI
//     being the full URL called, query included, with %3A %2F %3F %40 %21 %24
//     %27 %28 %29 %2A %2C %3B decoded. Reject timestamps older than 5 minutes
//     (the rule is about age only: Verify accepts a timestamp up to
//     MaxFutureSkew ahead). The signature is compared as the exact string.
//   - A request is a JSON array of up to 100 notifications, each with eventId,
//     subscriptionId, portalId, appId, occurredAt (Unix ms), subscriptionType,
//     attemptNumber, objectId, and for property changes propertyName,
//     propertyValue, changeSource, sourceId. eventId is "not guaranteed to be
//     unique"; order is not guaranteed.
//   - A non-2xx answer (other than 400/401/403/404/405), a timeout or a failed
//     connection is retried, up to 10 times over about 24 hours; the same
//     notifications come back with a higher attemptNumber. A 401 is not
//     retried: the notifications of a refused request are lost.
//   - An app's client secret signs for every portal the app is installed
//     in; the edge applies only HUBSPOT_PORTAL_ID's notifications.
//   - The classic (legacy) subscriptions cover contacts, companies, deals,
//     tickets, products, line items and conversations: there is no
//     call/meeting/email subscription there. Engagements are only available
//     through the generic subscriptions (object.creation etc. with
//     objectTypeId 0-48 calls, 0-47 meetings, 0-49 emails; beta since 2024).
//     Both are mapped: the generic engagement creations, and the contact
//     property notes_last_contacted that HubSpot updates when a call, sales
//     email or meeting is logged, for portals on legacy subscriptions only.
//
// # Mapping
//
// Generic contact (0-1) and deal (0-3) subscriptions are read as their legacy
// names. Anything not listed is skipped (*Skipped, counted and logged, still
// answered 2xx). A notification whose sourceId is leadflow's own app
// (Deps.OwnAppIDs or the receiving appId) is skipped as an echo. A
// hubspot_owner_id change is also an echo when Deps.OwnOwnerWrite says
// leadflow wrote that owner to that contact at about the notification's
// occurredAt (internal/hubspot records every AssignOwner), so an echo is
// recognised even when HubSpot's sourceId does not name leadflow's app.
//
//	HubSpot notification                         leadflow event                      notes
//	contact.creation                             —                                   no properties in the payload; a
//	                                                                                 profile.update with an empty profile
//	                                                                                 would start a lead workflow (and its
//	                                                                                 nurture) knowing nothing; the lead
//	                                                                                 starts with its first mapped change
//	contact.propertyChange email, firstname,     profile.update with that field      attribute property=<name>, never the
//	  lastname, phone, company, country,           (website → domain, state →        value (PII); cleared values skipped;
//	  state, industry, jobtitle, website,          region, jobtitle → title,          numemployees ranges at their lower
//	  numemployees                                 numemployees → employees)         bound ("25-50" → 25, "1000+" → 1000)
//	  lifecyclestage=salesqualifiedlead          lead.accepted, repId = owner's rep  skipped when the contact has no owner
//	                                                                                 or the owner is not a leadflow rep
//	  lifecyclestage=opportunity                 opportunity.created (+repId)        a deal.creation for the same lead is
//	                                                                                 then refused quietly by the workflow
//	  lifecyclestage=customer                    opportunity.won
//	  lifecyclestage=other values                —                                   leadflow owns subscriber…MQL
//	  hs_lead_status=UNQUALIFIED                 lead.rejected reason=bad_fit        repId = owner's rep; the workflow
//	  hs_lead_status=BAD_TIMING                  lead.rejected reason=timing         applies the reject rules (owner,
//	                                                                                 stage) and refuses with an alert
//	  hs_lead_status=ATTEMPTED_TO_CONTACT,       rep.touch channel=crm, owner's rep
//	    CONNECTED
//	  hs_lead_status=other values                —
//	  notes_last_contacted                       rep.touch channel=crm_activity,     occurredAt = the property's time;
//	                                               owner's rep                       hs_last_sales_activity_timestamp and
//	                                                                                 hs_sales_email_last_replied are the
//	                                                                                 contact's actions, not mapped
//	  hubspot_owner_id                           owner.changed: ownerId = the new    a reassignment by the CRM (the
//	                                               owner's rep ("" when the owner     workflow alerts when ownerId is "");
//	                                               is no leadflow rep), crmOwnerId =  echoes of leadflow's own writes
//	                                               the owner, by=hubspot,             skipped (above); cleared: skipped,
//	                                               changeSource                       leadflow keeps the lead's owner;
//	                                                                                 without Deps.RepForOwner skipped as
//	                                                                                 not_configured, never sent as "no rep"
//	deal.creation                                opportunity.created per associated  attributes dealId (+amount with
//	                                               contact's lead                    Deps.DealAmount); no contact: skipped
//	deal.propertyChange dealstage ∈ WonStages    opportunity.won per contact         default closedwon / closedlost;
//	deal.propertyChange dealstage ∈ LostStages   opportunity.lost per contact        attribute dealStage
//	object.creation 0-48 / 0-47 / 0-49           rep.touch per associated contact,   channel call / meeting / email;
//	  (call / meeting / email)                     repId = the engagement owner's    inbound emails skipped; occurredAt =
//	                                               rep                               hs_timestamp
//	contact.deletion, .merge, .restore,          —                                   unsupported_type
//	  .privacyDeletion, .associationChange,
//	  company.*, ticket.*, other object.*
//
// A contact N is lead Deps.LeadForContact(N) when leadflow already knows it,
// else "hs-N". Out-of-order delivery is fine: the workflow is event-driven,
// checks each event against its current state, and ignores repeated IDs.
package hswebhook
