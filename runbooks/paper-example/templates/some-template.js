// An AutomateJS template: a CommonJS module whose export is called with the task's `variables`
// and returns the file's text. rb2ansible runs it with Node on the controller, as AutomateJS did.
module.exports = (vars) => `hello ${vars.name}
`
