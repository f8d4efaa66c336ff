"""Server-rendered pages for readers, contributors and reviewers (issue 24): the HTTP layer's
HTML side. service.pages.render holds the negotiation and rendering every page uses;
service.pages.routes lists the routes the app serves."""
