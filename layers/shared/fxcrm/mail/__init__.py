"""Mail to clients: each message a template (HTML and text) in the
recipient's language, with the broker's branding, sent through SES's
configuration set unless the address is suppressed (a hard bounce or a
complaint, recorded from SES's notifications).

`render` turns a message name and its values into subject, text and HTML;
`sender.send` is what the domain calls; `suppression` records SES's events."""
