//! An in-memory Salesforce org for tests and demos (being built).
