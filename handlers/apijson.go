package handlers

import (
	"encoding/json"
	"net/http"
)

// The test API's bodies are exact: "success" is the string "true" or
// "false", and failures carry {"code": status, "message": text}.

type apiError struct {
	Success string       `json:"success"`
	Error   apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, code int, message string) {
	writeJSON(w, code, apiError{Success: "false", Error: apiErrorBody{Code: code, Message: message}})
}
